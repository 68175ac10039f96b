"""Detection on a grid, as YOLO does it (Redmon, Divvala, Girshick & Farhadi, 2016).

The image is divided into S x S cells; the cell holding an object's centre predicts it.
Each cell predicts `B` boxes -- (x, y) of the centre within the cell, the square roots of
width and height as fractions of the image, a confidence -- and one set of `C` class
scores, so a detector's output is (N, S, S, 5B + C), all linear, as in the paper.

- `Grid`: the layer that shapes a detector's output and records B and C in the saved model;
- `encode`: boxes (x1, y1, x2, y2, class) in pixels -> the per-cell targets the loss takes;
- `YoloLoss`: the paper's sum-squared loss;
- `decode`: outputs -> boxes in pixels and class-specific confidences;
- `non_max_suppression`: greedy, per class, fixed-size outputs.

`decode` and `non_max_suppression` are `keras.ops`, so they run on every backend and in a
compiled graph; `encode` is NumPy (it runs once over a dataset).
"""

import functools

import keras
import numpy as np
from keras import ops

from kerasdl._checks import check_float, check_int


@keras.saving.register_keras_serializable(package="kerasdl")
class Grid(keras.layers.Layer):
    """Reshape a detector's head to (S, S, 5B + C) -- a flat dense output or a map --
    and keep `boxes_per_cell` (B) and `num_classes` (C) with the saved model, where
    `layout` reads them."""

    def __init__(self, grid, boxes_per_cell, num_classes, **kwargs):
        super().__init__(**kwargs)
        self.grid = tuple(grid)
        self.boxes_per_cell, self.num_classes = boxes_per_cell, num_classes

    def call(self, x):
        return ops.reshape(x, (-1, *self.grid, 5 * self.boxes_per_cell + self.num_classes))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.grid, 5 * self.boxes_per_cell + self.num_classes)

    def get_config(self):
        return {**super().get_config(), "grid": self.grid,
                "boxes_per_cell": self.boxes_per_cell, "num_classes": self.num_classes}


def layout(model, *, required=False):
    """``(image_size, grid, boxes_per_cell, num_classes)`` of a detector (a model ending in
    a `Grid`); for any other model None, or with `required` a ValueError naming it."""
    last = model.layers[-1]
    if not isinstance(last, Grid):
        if required:
            raise ValueError(f"task='detection' needs a detector, a model ending in a "
                             f"kerasdl.detection.Grid (such as kerasdl.build('yolo')); "
                             f"{model.name!r} ends in {type(last).__name__}.")
        return None
    return tuple(model.inputs[0].shape[1:3]), last.grid, last.boxes_per_cell, last.num_classes


def encoder(model):
    """`encode` for detector `model`'s layout: boxes (N, M, 5) -> its targets."""
    image_size, grid, _, num_classes = layout(model, required=True)
    return functools.partial(encode, image_size=image_size, grid=grid,
                             num_classes=num_classes)


def encode(boxes, *, image_size, grid, num_classes):
    """The targets of `YoloLoss` for `boxes`.

    Args:
        boxes: (N, M, 5) rows (x1, y1, x2, y2, class) in pixels (x2, y2 exclusive); rows
            of class -1 are padding (the ``mnist_scenes`` layout).
        image_size: (height, width) of the images; grid: (rows, columns) of cells.

    Returns:
        float32 (N, rows, columns, 5 + num_classes): per cell (1 if an object's centre
        falls in it, x and y of that centre within the cell in [0, 1), width and height
        as fractions of the image, the one-hot class). A cell keeps one object, the
        paper's limit: of two centres in one cell the larger box wins.
    """
    boxes = np.asarray(boxes, dtype="float64")
    if boxes.ndim != 3 or boxes.shape[-1] != 5:
        raise ValueError(f"`boxes` must be (images, boxes, 5) rows (x1, y1, x2, y2, class); "
                         f"received an array of shape {boxes.shape}.")
    height, width = image_size
    rows, cols = grid
    check_boxes(boxes, image_size, num_classes)
    targets = np.zeros((len(boxes), rows, cols, 5 + num_classes), "float32")
    for i, j in zip(*np.nonzero(boxes[..., 4] >= 0)):
        x1, y1, x2, y2, label = boxes[i, j]
        x, y = (x1 + x2) / 2 / width * cols, (y1 + y2) / 2 / height * rows
        row, col = int(y), int(x)
        w, h = (x2 - x1) / width, (y2 - y1) / height
        cell = targets[i, row, col]
        if cell[0] and cell[3] * cell[4] >= w * h:
            continue
        cell[:] = 0
        cell[:5] = 1, x - col, y - row, w, h
        cell[5 + int(label)] = 1
    return targets


def check_boxes(boxes, image_size, num_classes, name="boxes"):
    """A ValueError naming the first box that is not (x1, y1, x2, y2, class) inside an
    image of `image_size` with x2 > x1, y2 > y1 and a class in [0, num_classes) (-1: a
    padding row)."""
    height, width = image_size
    real = boxes[boxes[..., 4] >= 0]
    problems = (
        ((boxes[..., 4] < -1) | (boxes[..., 4] >= num_classes)
         | (boxes[..., 4] != np.round(boxes[..., 4])),
         f"a class id outside [0, {num_classes - 1}] (num_classes={num_classes}; -1 pads)"),
        ((real[:, 2] <= real[:, 0]) | (real[:, 3] <= real[:, 1]),
         "x2 <= x1 or y2 <= y1: a box is (x1, y1, x2, y2, class) with x2 > x1 and y2 > y1"),
        ((real[:, 0] < 0) | (real[:, 1] < 0) | (real[:, 2] > width) | (real[:, 3] > height),
         f"a box outside the {height}x{width} image: 0 <= x1 < x2 <= {width}, "
         f"0 <= y1 < y2 <= {height}"),
    )
    for bad, why in problems:
        if bad.any():
            row = (boxes if bad.shape == boxes.shape[:-1] else real)[bad][0]
            raise ValueError(f"`{name}` holds the row {row.tolist()}: {why}.")


@keras.saving.register_keras_serializable(package="kerasdl")
class YoloLoss(keras.losses.Loss):
    """YOLO's loss (Redmon et al., 2016, eq. 3), summed over the cells of each image.

    In each cell holding an object, the predicted box of highest IoU with it is
    "responsible": its centre and the square roots of its size regress the object's
    (weight `lambda_coord`), its confidence the IoU itself; every other box's confidence
    regresses 0 (weight `lambda_noobj`); the cell's class scores regress the one-hot class.
    The network predicts the square roots of width and height directly (as Darknet does),
    so the paper's sqrt(w) is the output itself.
    """

    def __init__(self, boxes_per_cell=2, num_classes=20, lambda_coord=5.0, lambda_noobj=0.5,
                 name="yolo_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.boxes_per_cell, self.num_classes = boxes_per_cell, num_classes
        self.lambda_coord, self.lambda_noobj = lambda_coord, lambda_noobj

    def call(self, y_true, y_pred):
        y_true, y_pred = ops.cast(y_true, "float32"), ops.cast(y_pred, "float32")
        boxes, classes = _split(y_pred, self.boxes_per_cell)
        has_object, true_box = y_true[..., :1], y_true[..., None, 1:5]
        cells = ops.convert_to_tensor([y_pred.shape[2], y_pred.shape[1]], "float32")
        overlap = ops.stop_gradient(
            _iou(_corners(boxes[..., :2], ops.square(boxes[..., 2:4]), cells),
                 _corners(true_box[..., :2], true_box[..., 2:4], cells)))
        responsible = has_object * ops.one_hot(ops.argmax(overlap, axis=-1),
                                               self.boxes_per_cell)
        coordinates = (ops.sum(ops.square(boxes[..., :2] - true_box[..., :2]), axis=-1)
                       + ops.sum(ops.square(boxes[..., 2:4] - ops.sqrt(true_box[..., 2:4])),
                                 axis=-1))
        confidence = boxes[..., 4]
        loss = (self.lambda_coord * responsible * coordinates
                + responsible * ops.square(confidence - overlap)
                + self.lambda_noobj * (1 - responsible) * ops.square(confidence))
        class_loss = has_object[..., 0] * ops.sum(ops.square(classes - y_true[..., 5:]), -1)
        return ops.sum(loss, axis=(1, 2, 3)) + ops.sum(class_loss, axis=(1, 2))

    def get_config(self):
        return {**super().get_config(), "boxes_per_cell": self.boxes_per_cell,
                "num_classes": self.num_classes, "lambda_coord": self.lambda_coord,
                "lambda_noobj": self.lambda_noobj}


def _split(y_pred, boxes_per_cell):
    """(N, S, S, 5B + C) -> boxes (N, S, S, B, 5) and class scores (N, S, S, C)."""
    boxes = y_pred[..., :5 * boxes_per_cell]
    return (ops.reshape(boxes, (-1, *y_pred.shape[1:3], boxes_per_cell, 5)),
            y_pred[..., 5 * boxes_per_cell:])


def _corners(centre, size, cells):
    """(x1, y1, x2, y2) as fractions of the image from a centre within its cell (the
    cell's own offset left out: boxes compared in one cell share it), a size and the
    (columns, rows) of the grid."""
    centre = centre / cells
    return ops.concatenate([centre - size / 2, centre + size / 2], axis=-1)


def _iou(a, b):
    """IoU of boxes (..., 4) (x1, y1, x2, y2), broadcast against each other."""
    low, high = ops.maximum(a[..., :2], b[..., :2]), ops.minimum(a[..., 2:], b[..., 2:])
    inter = ops.prod(ops.maximum(high - low, 0.0), axis=-1)

    def area(box):
        return ops.prod(ops.maximum(box[..., 2:] - box[..., :2], 0.0), axis=-1)

    return inter / ops.maximum(area(a) + area(b) - inter, 1e-9)


def decode(predictions, *, image_size, boxes_per_cell):
    """A detector's outputs as boxes in pixels and their class-specific confidences.

    Args:
        predictions: (N, S, S, 5B + C), a `Grid`'s output.
        image_size: (height, width) of the images, to scale the boxes to pixels.

    Returns:
        ``(boxes, scores)``: (N, S*S*B, 4) rows (x1, y1, x2, y2) in pixels, clipped to the
        image, and (N, S*S*B, C) each box's confidence times its cell's class score (the
        paper's class-specific confidence), each clipped to [0, 1], the probabilities
        they regress; a box clipped to nothing scores 0.
    """
    predictions = ops.convert_to_tensor(predictions, "float32")
    rows, cols = predictions.shape[1:3]
    boxes, classes = _split(predictions, boxes_per_cell)
    offsets = ops.stack(ops.meshgrid(ops.arange(cols, dtype="float32"),
                                     ops.arange(rows, dtype="float32")), axis=-1)
    centre = (boxes[..., :2] + offsets[:, :, None]) / ops.convert_to_tensor([cols, rows],
                                                                           "float32")
    size = ops.square(boxes[..., 2:4])
    scale = ops.convert_to_tensor([image_size[1], image_size[0]] * 2, "float32")
    corners = ops.clip(ops.concatenate([centre - size / 2, centre + size / 2], -1), 0.0, 1.0)
    empty = ops.any(corners[..., 2:] <= corners[..., :2], axis=-1, keepdims=True)
    probability = ops.clip(boxes[..., 4:5], 0.0, 1.0) * ops.clip(classes, 0.0, 1.0)[..., None, :]
    scores = ops.where(empty, 0.0, probability)
    count = rows * cols * boxes_per_cell
    return (ops.reshape(corners * scale, (-1, count, 4)),
            ops.reshape(scores, (-1, count, classes.shape[-1])))


def non_max_suppression(boxes, scores, *, iou_threshold=0.5, score_threshold=0.01,
                        max_detections=100, max_candidates=200):
    """Greedy non-maximum suppression per class, in `keras.ops` with fixed shapes.

    Each (box, class) pair is a candidate scored by `scores`; the `max_candidates` best
    above `score_threshold` are visited from the highest, and each suppresses the later
    candidates of its class that overlap it by more than `iou_threshold`.

    Args:
        boxes: (N, K, 4) rows (x1, y1, x2, y2); scores: (N, K, C).

    Returns:
        (N, max_detections, 6) rows (x1, y1, x2, y2, score, class), best first; rows past
        an image's detections hold zeros and class -1 (`detections_list` drops them).
    """
    check_float(iou_threshold, "iou_threshold", 0.0, 1.0, high_inclusive=True)
    check_int(max_detections, "max_detections")
    check_int(max_candidates, "max_candidates")
    boxes, scores = ops.convert_to_tensor(boxes, "float32"), ops.convert_to_tensor(scores,
                                                                                   "float32")
    count, classes = scores.shape[1:]
    take = min(max_candidates, count * classes)
    best, index = ops.top_k(ops.reshape(scores, (-1, count * classes)), take)
    label = index % classes
    candidate = ops.take_along_axis(boxes, ops.expand_dims(index // classes, -1), axis=1)
    same_class = ops.equal(label[:, :, None], label[:, None, :])
    overlaps = ops.logical_and(
        same_class, _iou(candidate[:, :, None], candidate[:, None, :]) > iou_threshold)
    later = ops.arange(take)[None, :] > ops.arange(take)[:, None]

    def visit(i, keep):
        suppress = ops.logical_and(ops.logical_and(keep[:, i][:, None], overlaps[:, i]),
                                   later[i])
        return ops.logical_and(keep, ops.logical_not(suppress))

    keep = ops.fori_loop(0, take, visit, best > score_threshold)
    top, order = ops.top_k(ops.where(keep, best, -1.0), min(max_detections, take))
    if take < max_detections:  # fewer candidates than rows: the rest are misses
        pad = [[0, 0], [0, max_detections - take]]
        top, order = ops.pad(top, pad, constant_values=-1.0), ops.pad(order, pad)
    rows = ops.concatenate([
        ops.take_along_axis(candidate, order[..., None], axis=1), top[..., None],
        ops.cast(ops.take_along_axis(label, order, axis=1), "float32")[..., None]], axis=-1)
    miss = ops.convert_to_tensor([0, 0, 0, 0, 0, -1.0])
    return ops.where((top > -1.0)[..., None], rows, miss)


def detections_list(detections):
    """`non_max_suppression`'s padded rows as a list of (m, 6) NumPy arrays, one per image
    (what `kerasdl.metrics.detection_scores` takes)."""
    detections = ops.convert_to_numpy(detections)
    return [rows[rows[:, 5] >= 0] for rows in detections]
