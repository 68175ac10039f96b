"""Detection: YOLO v1, one pass over a grid of cells."""

import keras
from keras import layers

from kerasdl._checks import check_choice, check_float, check_input_shape, check_int
from kerasdl.blocks import BN_EPSILON, classifier_builder, finish, scaled
from kerasdl.detection import Grid
from kerasdl.models._backbone import backbone_features
from kerasdl.registry import register

# The paper's Figure 3, stage by stage: (kernel, filters, stride) convolutions and "pool"
# (2x2 max pooling, stride 2). Six of them halve the map: 448 -> 7.
DARKNET = (
    ((7, 64, 2), "pool"),
    ((3, 192, 1), "pool"),
    ((1, 128, 1), (3, 256, 1), (1, 256, 1), (3, 512, 1), "pool"),
    ((1, 256, 1), (3, 512, 1)) * 4 + ((1, 512, 1), (3, 1024, 1), "pool"),
    ((1, 512, 1), (3, 1024, 1)) * 2 + ((3, 1024, 1), (3, 1024, 2)),
    ((3, 1024, 1), (3, 1024, 1)),
)
HALVINGS = 6
DETECTION_LAYERS_FROM = 20  # the paper pretrains the first 20 convolutions, then adds 4


@classifier_builder
def yolo(input_shape=None, num_classes=20, grid=7, boxes_per_cell=2, width_multiplier=1.0,
         hidden_units=4096, head="dense", batch_norm=False, dropout=0.5, backbone=None,
         backbone_weights=None, name="yolo"):
    """YOLO v1 (Redmon, Divvala, Girshick & Farhadi, 2016): 24 convolutions (leaky ReLU,
    slope 0.1) and, with ``head="dense"``, two fully connected layers -- 4096 units and
    dropout 0.5, then S x S x (5B + C) linear outputs -- shaped by a
    `kerasdl.detection.Grid`: per cell B boxes (x, y, sqrt w, sqrt h, confidence) and C
    class scores. Train it with `kerasdl.detection.YoloLoss` (``task="detection"``).

    Args:
        input_shape: (height, width, channels); None: the paper's 448x448x3. The height
            over `grid` is the network's stride, a power of two up to 64; the first
            halvings of the paper's six are kept and the later ones dropped (64x64
            images on an 8x8 grid keep three).
        grid: S, the cells along the height (the paper: 7); along the width: width /
            stride.
        boxes_per_cell: B (the paper: 2).
        width_multiplier: scales every convolution's filters.
        hidden_units: the first fully connected layer's units (``head="dense"``).
        head: "dense" (the paper's) or "conv" (a 1x1 convolution per cell, for small
            sizes: no weights tied to the image size).
        batch_norm: batch norm after each convolution (YOLO v2's; not in v1).
        backbone: None (the paper's convolutions), or a convolutional model's feature
            maps: its name, built as its `kerasdl train` recipe builds it, or
            ``kerasdl.build(name, features=True, ...)``. As the paper puts its
            detection layers on the first 20 convolutions it pretrained, its last four
            convolutions (stride 1) and the head follow the backbone's map that has
            `grid` cells along the height.
        backbone_weights: the path of a trained classifier of the `backbone` name, whose
            convolutions start the sub-model "backbone".
        (others): as in every kerasdl builder.
    """
    check_int(grid, "grid")
    check_int(boxes_per_cell, "boxes_per_cell")
    check_float(width_multiplier, "width_multiplier", 0.0, 16.0, low_inclusive=False)
    check_int(hidden_units, "hidden_units")
    check_choice(head, "head", ("dense", "conv"))
    input_shape = check_input_shape(input_shape, (448, 448, 3), model=name, min_size=2)
    halvings, cols = _halvings(input_shape, grid, name)

    inputs = keras.Input(shape=input_shape, name="inputs")
    x, index, pools, halved, stages = inputs, 0, 0, 0, DARKNET
    if backbone is not None:
        x = backbone_features(backbone, input_shape, backbone_weights, model=name,
                              select=lambda maps: _grid_map(maps, grid, name))(inputs)
        index, halved = DETECTION_LAYERS_FROM, HALVINGS
        stages = (tuple(layer[:2] + (1,) for layer in DARKNET[-2][-2:] + DARKNET[-1]),)
    for stage in stages:
        for layer in stage:
            kept = halved < halvings
            if layer == "pool":
                pools += 1
                if kept:
                    x = layers.MaxPooling2D(2, name=f"pool{pools}")(x)
                halved += 1
                continue
            kernel, filters, strides = layer
            if strides == 2:
                strides = 2 if kept else 1
                halved += 1
            index += 1
            x = _conv(x, scaled(filters, width_multiplier), kernel, strides, batch_norm,
                      name=f"conv{index}")
    outputs = 5 * boxes_per_cell + num_classes
    if head == "dense":
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(hidden_units, name="fc1")(x)
        x = layers.LeakyReLU(0.1, name="fc1_leaky")(x)
        if dropout:
            x = layers.Dropout(dropout, name="fc1_dropout")(x)
        x = layers.Dense(grid * cols * outputs, name="fc2")(x)
    else:
        if dropout:
            x = layers.Dropout(dropout, name="head_dropout")(x)
        x = layers.Conv2D(outputs, 1, name="head_conv")(x)
    x = Grid((grid, cols), boxes_per_cell, num_classes, name="predictions")(x)
    return finish(inputs, x, name=name)


def _conv(x, filters, kernel, strides, batch_norm, *, name):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=not batch_norm,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    if batch_norm:
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return layers.LeakyReLU(0.1, name=f"{name}_leaky")(x)


def _grid_map(maps, grid, name):
    """The backbone's map with `grid` cells along the height (its last such layer)."""
    fitting = [m for m in maps if m.shape[1] == grid]
    if not fitting:
        raise ValueError(f"{name} with grid={grid} needs a backbone map {grid} cells high; "
                         f"the backbone's maps are {[m.shape[1] for m in maps]} high on this "
                         f"input. Choose grid from those, or another input size.")
    return fitting[-1]


def _halvings(input_shape, grid, name):
    """How many of the paper's halvings give `grid` cells along the height, and the
    cells along the width; a ValueError naming the sizes that fit otherwise."""
    height, width = input_shape[:2]
    stride = height // grid
    halvings = stride.bit_length() - 1
    if height % grid or stride != 2 ** halvings or not 1 <= halvings <= HALVINGS:
        fits = sorted({grid * 2 ** k for k in range(1, HALVINGS + 1)})
        raise ValueError(f"{name} with grid={grid} needs a height of grid * 2**k, k in 1.."
                         f"{HALVINGS} (the stride of its halvings): {fits}; received an input "
                         f"of height {height}.")
    if width % stride:
        raise ValueError(f"{name}'s stride on a height of {height} with grid={grid} is "
                         f"{stride}, so the width must be a multiple of {stride}; received an "
                         f"input of width {width}.")
    return halvings, width // stride


register(
    "yolo", yolo, family="detection",
    paper="Redmon, Divvala, Girshick & Farhadi 2016, You only look once: unified, real-time "
          "object detection",
    default_input=(448, 448, 3), min_input=(8, 8, 1), num_classes=20, params=271_703_550,
    test_kwargs=dict(input_shape=(16, 16, 1), num_classes=1, grid=4, boxes_per_cell=2,
                     width_multiplier=1 / 16, head="conv", dropout=0.0),
    example="boxes", width=("width_multiplier",),
    train=dict(dataset="mnist_scenes", task="detection", augment=True, epochs=20,
               batch_size=32, lr=1e-3, model=dict(grid=8, width_multiplier=1 / 8,
                                                   head="conv", dropout=0.0)),
)
