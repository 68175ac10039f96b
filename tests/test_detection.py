"""Detection: YOLO's targets and loss against hand-computed answers, decoding and
non-maximum suppression against TensorFlow's, the paper's network, and a detector that
learns the squares."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import detection, testing, training
from kerasdl.metrics import detection_scores
from kerasdl.registry import get_spec
from kerasdl.training import train_model
from tests.helpers import ONCE_ON, outputs

independent = pytest.mark.backend_independent


@independent
def test_encode_puts_each_box_in_the_cell_of_its_centre():
    boxes = np.array([[[8, 0, 24, 16, 1], [40, 40, 64, 48, 0], [-1] * 5]])
    targets = detection.encode(boxes, image_size=(64, 64), grid=(4, 4), num_classes=2)
    # centre (16, 8) in cells of 16: column 1 at its left edge, row 0 half-way down;
    # 16 / 64 of the image wide and high; class 1
    np.testing.assert_allclose(targets[0, 0, 1], [1, 0.0, 0.5, 0.25, 0.25, 0, 1])
    # centre (52, 44): column 3.25, row 2.75
    np.testing.assert_allclose(targets[0, 2, 3], [1, 0.25, 0.75, 0.375, 0.125, 1, 0])
    assert targets[..., 0].sum() == 2  # the padding row is no object
    # two centres in one cell: the larger box is kept, in either order
    small, large = [0, 0, 4, 4, 0], [0, 0, 8, 8, 1]
    for rows in ([small, large], [large, small]):
        cell = detection.encode(np.array([rows]), image_size=(16, 16), grid=(1, 1),
                                num_classes=2)[0, 0, 0]
        np.testing.assert_allclose(cell, [1, 0.25, 0.25, 0.5, 0.5, 0, 1])


@independent
def test_encode_refuses_bad_boxes():
    def encode(rows):
        return detection.encode(np.array(rows, float), image_size=(64, 64), grid=(4, 4),
                                num_classes=2)

    with pytest.raises(ValueError, match=r"\[0.0, 0.0, 70.0, 8.0, 0.0\]: a box outside the "
                                         r"64x64 image: 0 <= x1 < x2 <= 64"):
        encode([[[0, 0, 70, 8, 0]]])
    with pytest.raises(ValueError, match=r"\[5.0, 0.0, 5.0, 8.0, 0.0\]: x2 <= x1 or y2 <= y1"):
        encode([[[5, 0, 5, 8, 0]]])
    with pytest.raises(ValueError, match=r"\[0.0, 0.0, 8.0, 8.0, 2.0\]: a class id outside "
                                         r"\[0, 1\] \(num_classes=2"):
        encode([[[0, 0, 8, 8, 2]]])
    with pytest.raises(ValueError, match=r"\(images, boxes, 5\).*shape \(1, 5\)"):
        encode([[0, 0, 8, 8, 0]])


def _loss(y_true, y_pred, boxes_per_cell, num_classes):
    loss = detection.YoloLoss(boxes_per_cell, num_classes, reduction=None)
    return keras.ops.convert_to_numpy(loss(np.float32(y_true), np.float32(y_pred)))


def test_yolo_loss_is_the_papers_on_a_hand_computed_case():
    # a 1 x 2 grid, B = 2, C = 2; the object (class 1) in the left cell, centred in it,
    # a quarter of the image wide and high
    y_true = np.zeros((1, 1, 2, 7))
    y_true[0, 0, 0] = 1, 0.5, 0.5, 0.25, 0.25, 0, 1
    y_pred = np.zeros((1, 1, 2, 12))
    # box 1: centre 0.1 to the right (0.05 of the image), the true size: IoU 2/3;
    # box 2: small, far left: IoU 0.026; class scores 0.1, 0.7
    y_pred[0, 0, 0] = 0.6, 0.5, 0.5, 0.5, 0.8, 0.1, 0.5, 0.3, 0.3, 0.3, 0.1, 0.7
    # the empty cell: only its confidences count
    y_pred[0, 0, 1] = 0.4, 0.4, 0.9, 0.9, 0.2, 0.3, 0.3, 0.1, 0.1, -0.1, 0.5, 0.5
    expected = (5 * 0.1 ** 2  # box 1 is responsible: its centre's error
                + (0.8 - 2 / 3) ** 2  # its confidence against its IoU
                + 0.5 * 0.3 ** 2  # box 2's confidence against 0
                + 0.1 ** 2 + 0.3 ** 2  # the class scores
                + 0.5 * (0.2 ** 2 + 0.1 ** 2))  # the empty cell's confidences
    np.testing.assert_allclose(_loss(y_true, y_pred, 2, 2), [expected], rtol=1e-6)


def _perfect(targets, boxes_per_cell):
    """The outputs that predict `targets` exactly: each object by its cell's first box."""
    predictions = np.zeros(targets.shape[:3] + (5 * boxes_per_cell + targets.shape[-1] - 5,))
    cells = targets[..., 0] == 1
    predictions[cells, :5] = np.concatenate(
        [targets[cells, 1:3], np.sqrt(targets[cells, 3:5]), np.ones((cells.sum(), 1))], -1)
    predictions[..., 5 * boxes_per_cell:] = targets[..., 5:]
    return predictions.astype("float32")


def test_perfect_outputs_cost_nothing_and_decode_to_the_boxes():
    boxes = np.array([[[8, 0, 24, 16, 1], [40, 40, 64, 48, 0], [-1] * 5],
                      [[0, 30, 10, 62, 2], [-1] * 5, [-1] * 5]], "float32")
    targets = detection.encode(boxes, image_size=(64, 64), grid=(4, 4), num_classes=3)
    predictions = _perfect(targets, 2)
    np.testing.assert_allclose(_loss(targets, predictions, 2, 3), [0, 0], atol=1e-6)
    found = detection.detections_list(detection.non_max_suppression(
        *detection.decode(predictions, image_size=(64, 64), boxes_per_cell=2),
        max_detections=5))
    for rows, truth in zip(found, boxes):
        truth = truth[truth[:, 4] >= 0]
        assert len(rows) == len(truth)
        order = np.argsort(rows[:, 0])
        np.testing.assert_allclose(rows[order, :4], truth[np.argsort(truth[:, 0]), :4],
                                   atol=1e-4)
        np.testing.assert_allclose(rows[:, 4], 1.0, atol=1e-6)
    assert detection_scores(list(boxes), found, 3)["map"] == pytest.approx(1.0)


def test_non_max_suppression_keeps_what_tensorflows_keeps(rng):
    import tensorflow as tf

    count, classes = 40, 3
    corner = rng.uniform(0, 40, (2, count, 2))
    boxes = np.concatenate([corner, corner + rng.uniform(5, 20, (2, count, 2))],
                           -1).astype("float32")
    scores = rng.uniform(0, 1, (2, count, classes)).astype("float32")
    rows = keras.ops.convert_to_numpy(detection.non_max_suppression(
        boxes, scores, iou_threshold=0.4, score_threshold=0.3, max_detections=count * classes,
        max_candidates=count * classes))
    for image in range(2):
        kept = rows[image][rows[image][:, 5] >= 0]
        assert (np.diff(kept[:, 4]) <= 0).all()  # best first
        for k in range(classes):
            expected = tf.image.non_max_suppression(
                boxes[image], scores[image, :, k], count, iou_threshold=0.4,
                score_threshold=0.3).numpy()
            ours = kept[kept[:, 5] == k]
            np.testing.assert_allclose(ours[:, :4], boxes[image, expected], atol=1e-5)
            np.testing.assert_allclose(ours[:, 4], scores[image, expected, k], atol=1e-6)
    assert 0 < len(kept) < count * classes
    # fewer rows than asked for: the rest are misses (class -1)
    few = detection.non_max_suppression(boxes, scores, max_candidates=10, max_detections=15)
    assert keras.ops.convert_to_numpy(few)[:, 10:, 5].tolist() == [[-1] * 5] * 2


@independent
def test_yolo_is_the_papers_24_convolutions_and_2_dense_layers():
    # at 448 (its parameter count at full width: tests/test_fidelity.py), six halvings
    kinds = [type(layer).__name__ for layer in
             kerasdl.build("yolo", width_multiplier=1 / 16, hidden_units=8).layers]
    assert kinds.count("Conv2D") == 24 and kinds.count("Dense") == 2
    assert kinds.count("MaxPooling2D") == 4
    model = kerasdl.build("yolo", width_multiplier=1 / 16, head="conv")
    assert model.get_layer("conv24_conv").output.shape[1:3] == (7, 7)
    assert model.outputs[0].shape[1:] == (7, 7, 30)  # S = 7, B = 2, C = 20
    # 64x64 on an 8x8 grid keeps the first three halvings
    model = kerasdl.build("yolo", input_shape=(64, 64, 1), grid=8, width_multiplier=1 / 16,
                          head="conv")
    assert [layer.name for layer in model.layers if "pool" in layer.name] == ["pool1", "pool2"]
    assert model.get_layer("conv1_conv").strides == (2, 2)
    assert model.get_layer("conv24_conv").output.shape[1:3] == (8, 8)


@independent
def test_yolo_refuses_sizes_its_stride_does_not_divide():
    with pytest.raises(ValueError, match=r"grid=7 needs a height of grid \* 2\*\*k.*\[14, 28, "
                                         r"56, 112, 224, 448\]; received an input of height 100"):
        kerasdl.build("yolo", input_shape=(100, 100, 3))
    with pytest.raises(ValueError, match="stride on a height of 64 with grid=8 is 8, so the "
                                         "width must be a multiple of 8; received an input of "
                                         "width 60"):
        kerasdl.build("yolo", input_shape=(64, 60, 1), grid=8, head="conv")
    lenet5 = kerasdl.build("lenet5")
    with pytest.raises(ValueError, match="task='detection' needs a detector.*'lenet5' ends "
                                         "in Dense"):
        train_model(lenet5, (np.zeros((4, 28, 28, 1)), np.zeros(4)), task="detection")
    with pytest.raises(ValueError, match="task='detection' needs a detector"):
        kerasdl.evaluate(lenet5, (np.zeros((4, 32, 32, 1)), np.zeros((4, 1, 5))),
                         task="detection")


@pytest.mark.skipif(keras.backend.backend() != ONCE_ON, reason="learns alike on every backend")
def test_yolo_learns_the_squares_and_evaluation_scores_it(tmp_path):
    spec = get_spec("yolo")
    rng = np.random.default_rng(0)
    (x, y), (x_test, y_test) = (testing.square_boxes(spec, rng, n) for n in (128, 32))
    keras.utils.set_random_seed(0)
    model = kerasdl.build("yolo", **spec.test_kwargs)
    before = kerasdl.evaluate(model, (x_test, y_test))
    train_model(model, (x, y), task="detection", epochs=40, batch_size=16, lr=3e-3,
                validation_split=0.0, verbose=0)
    after = kerasdl.evaluate(model, (x_test, y_test), output_dir=tmp_path)
    assert after["task"] == "detection"
    # an untrained detector finds nothing (0.0); 40 epochs here reach 0.42
    assert after["map_50"] > 0.3 > before["map_50"] + 0.25, (before, after)
    assert after["loss"] < before["loss"] / 4
    found = detection.detections_list(detection.non_max_suppression(
        *detection.decode(outputs(model, x_test), image_size=(16, 16), boxes_per_cell=2)))
    assert after == {**after, **detection_scores(list(y_test), found, 1)}
    assert (tmp_path / "detections.png").exists() and (tmp_path / "precision_recall.png").exists()


@independent
def test_scaling_and_shifting_moves_the_boxes_with_their_objects():
    x, boxes = testing.square_boxes(get_spec("yolo"), np.random.default_rng(0), 64)
    x = np.concatenate([x, np.zeros_like(x[:1])])  # and an image with no box
    boxes = np.concatenate([boxes, np.full_like(boxes[:1], -1)])
    moved_x, moved = training.scale_and_shift_boxes(x, boxes, np.random.default_rng(0),
                                                    max_shift=0.4, max_zoom=0.3)
    real = moved[:-1, 0]
    assert (real[:, :4] >= 0).all() and (real[:, :4] <= 16).all()  # whole, inside
    assert not np.allclose(real[:, :4], boxes[:-1, 0, :4], atol=1)  # they moved
    np.testing.assert_array_equal(moved[:-1, 0, 4], boxes[:-1, 0, 4])  # same classes
    np.testing.assert_array_equal(moved[-1], boxes[-1])  # padding stays padding
    for image, (x1, y1, x2, y2, _) in zip(moved_x[:-1, ..., 0], real):
        rows, cols = np.nonzero(image > 0.5)  # the square, resampled
        np.testing.assert_allclose([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1],
                                   [x1, y1, x2, y2], atol=1.0)
    # training: each batch's boxes moved, then encoded for the detector's grid
    model = kerasdl.build("yolo", **get_spec("yolo").test_kwargs)
    batches = training.Batches(x, boxes, 16, augment={}, encode=detection.encoder(model))
    images, targets = batches[0]
    drawn = batches.order[:16]
    assert targets.shape == (16, 4, 4, 6)
    assert targets[..., 0].sum() == (boxes[drawn, 0, 4] >= 0).sum() > 0  # one per square
    assert not np.allclose(images, x[drawn])

