"""Dense prediction: U-Net, one class per pixel."""

import keras
from keras import layers

from kerasdl._checks import check_choice, check_input_shape, check_int
from kerasdl.blocks import classifier_builder, conv_bn_act, finish
from kerasdl.models._backbone import backbone_features
from kerasdl.registry import register


@classifier_builder
def unet(input_shape=None, num_classes=2, filters=64, depth=4, padding="same",
         batch_norm=False, dropout=0.5, backbone=None, backbone_weights=None, name="unet"):
    """U-Net (Ronneberger, Fischer & Brox, 2015): a contracting path of two 3x3
    convolutions (ReLU) and a 2x2 max pooling per level, doubling the filters (64 to
    1024), and an expanding path that at each level up-convolves (2x2, stride 2, half the
    filters, ReLU), concatenates the contracting path's maps of that level (centre-cropped
    with ``padding="valid"``) and convolves twice; a 1x1 convolution gives each pixel a
    softmax over `num_classes` (a sigmoid for one class). Kernels start from He's
    Gaussian, as in the paper; dropout ends the contracting path.

    Args:
        input_shape: (height, width, channels); None: the paper's 572x572x1 tile with
            ``padding="valid"``, and 576x576x1 (572 rounded up to a multiple of 2**depth)
            with "same".
        filters: the first level's filters.
        depth: the number of poolings (the paper: 4).
        padding: "same" (default): the output has the input's size, which must be a
            multiple of 2**depth; "valid": the paper's unpadded convolutions, 572x572 in,
            388x388 out.
        batch_norm: batch norm after every 3x3 convolution (not in the paper).
        dropout: the rate of the dropout at the end of the contracting path (the paper:
            0.5).
        backbone: None (the paper's contracting path), or a convolutional model's
            feature maps as the contracting path: its name, built as its `kerasdl train`
            recipe builds it, or ``kerasdl.build(name, features=True, ...)``. The
            expanding path then climbs its maps, each level with the skip's channels,
            up to the input's size; `filters` and `depth` are the backbone's.
        backbone_weights: the path of a trained classifier of the `backbone` name, whose
            convolutions start the contracting path (the sub-model "backbone").
        (others): as in every kerasdl builder.
    """
    check_int(filters, "filters")
    check_int(depth, "depth")
    check_choice(padding, "padding", ("same", "valid"))
    stride = 2 ** depth
    default = (572, 572, 1) if padding == "valid" else (-(-572 // stride) * stride,) * 2 + (1,)
    input_shape = check_input_shape(input_shape, default, model=name, min_size=1)
    if backbone is None:
        for size in input_shape[:2]:
            _check_size(size, depth, padding, name)
    conv = dict(padding=padding, batch_norm=batch_norm)

    inputs = keras.Input(shape=input_shape, name="inputs")
    if backbone is None:
        skips, x = _contracting_path(inputs, filters, depth, conv)
    else:
        if padding != "same":
            raise ValueError(f"{name} with a backbone takes padding='same' (the backbone's "
                             f"convolutions are padded); received padding={padding!r}.")
        *skips, x = keras.tree.flatten(backbone_features(
            backbone, input_shape, backbone_weights, model=name)(inputs))
        _check_halvings([*skips, x], input_shape, name)
    if dropout:
        x = layers.Dropout(dropout, name="bottom_dropout")(x)
    for level, skip in reversed(list(enumerate(skips))):
        x = _expand(x, skip, skip.shape[-1], conv, level)
    climbs = 0  # a backbone whose stem strides: climb on to the input's size
    while backbone is not None and x.shape[1] < input_shape[0]:
        climbs += 1
        x = _expand(x, None, x.shape[-1], conv, f"_stem{climbs}")
    x = layers.Conv2D(num_classes, 1, activation="softmax" if num_classes > 1 else "sigmoid",
                      name="predictions")(x)
    return finish(inputs, x, name=name)


def _contracting_path(x, filters, depth, conv):
    """The paper's: the maps before each pooling (the skips) and the bottom."""
    skips = []
    for level in range(depth + 1):
        x = conv_bn_act(x, filters * 2 ** level, 3, name=f"down{level}_1", **conv)
        x = conv_bn_act(x, filters * 2 ** level, 3, name=f"down{level}_2", **conv)
        if level < depth:
            skips.append(x)
            x = layers.MaxPooling2D(2, name=f"down{level}_pool")(x)
    return skips, x


def _expand(x, skip, filters, conv, level):
    """One level of the expanding path: a 2x2 up-convolution (stride 2, ReLU), the skip's
    maps (centre-cropped to fit) concatenated if any, two 3x3 convolutions."""
    x = layers.Conv2DTranspose(filters, 2, strides=2, activation="relu",
                               kernel_initializer="he_normal", name=f"up{level}_upconv")(x)
    if skip is not None:
        crop = skip.shape[1] - x.shape[1], skip.shape[2] - x.shape[2]
        if any(crop):
            skip = layers.Cropping2D(tuple((c // 2, c - c // 2) for c in crop),
                                     name=f"up{level}_crop")(skip)
        x = layers.Concatenate(name=f"up{level}_concat")([skip, x])
    x = conv_bn_act(x, filters, 3, name=f"up{level}_1", **conv)
    return conv_bn_act(x, filters, 3, name=f"up{level}_2", **conv)


def _check_halvings(maps, input_shape, name):
    """The expanding path doubles: each of a backbone's maps must be half the one before
    it, and the input a power of two times the highest one."""
    sizes = [tuple(input_shape[:2])] + [tuple(m.shape[1:3]) for m in maps]
    climbs = (sizes[0][0] // sizes[1][0]).bit_length() - 1
    steps = [(2 ** climbs * h, 2 ** climbs * w) for h, w in sizes[1:2]] + [
        (2 * h, 2 * w) for h, w in sizes[2:]]
    if steps != [sizes[0]] + sizes[1:-1]:
        stride = 2 ** (climbs + len(maps) - 1)
        raise ValueError(
            f"{name}'s expanding path doubles the backbone's maps, so each must be half the "
            f"one before it; on an input of {sizes[0][0]}x{sizes[0][1]} they are "
            f"{[f'{h}x{w}' for h, w in sizes[1:]]}. Use a backbone whose padded convolutions "
            f"halve its maps, on an input whose sides are multiples of {stride}.")


def _check_size(size, depth, padding, name):
    """Each pooling needs an even map; unpadded, each level's two convolutions take 4 pixels
    off on the way down and on the way up, so the input must be 2**depth * b + 4 (2**depth
    - 1), with a bottom of b large enough that every map keeps a pixel."""
    stride = 2 ** depth
    if padding == "same" and size % stride:
        raise ValueError(
            f"{name} with depth={depth} pools {depth} times, so padding='same' takes sizes "
            f"that are multiples of {stride}; received an input of size {size} (try "
            f"{max(stride, size // stride * stride)} or {(size // stride + 1) * stride}).")
    offset, smallest = 4 * (stride - 1), next(b for b in range(5, 100) if _valid_output(b, depth))
    if padding == "valid" and ((size - offset) % stride or (size - offset) // stride < smallest):
        fits = [stride * b + offset for b in range(smallest, smallest + 3)]
        raise ValueError(
            f"{name} with padding='valid' and depth={depth} takes sizes {stride} * b + "
            f"{offset} with b >= {smallest} ({fits[0]}, {fits[1]}, {fits[2]}, ..., the "
            f"paper's 572); received an input of size {size}. padding='same' takes "
            f"multiples of {stride}.")


def _valid_output(bottom, depth):
    """Whether every unpadded map of the expanding path, from a bottom of size `bottom`,
    keeps at least one pixel."""
    size = bottom - 4
    for _ in range(depth):
        if size < 1:
            return False
        size = 2 * size - 4
    return size >= 1


register(
    "unet", unet, family="segmentation",
    paper="Ronneberger, Fischer & Brox 2015, U-Net: convolutional networks for biomedical "
          "image segmentation",
    default_input=(576, 576, 1), min_input=(16, 16, 1), num_classes=2, params=31_030_658,
    test_kwargs=dict(input_shape=(16, 16, 1), num_classes=2, filters=4, depth=2,
                     dropout=0.0),
    example="squares", width=("filters",),
    train=dict(dataset="mnist_scenes", task="segmentation", augment=False, epochs=6,
               batch_size=32, lr=3e-3,
               model=dict(filters=16, batch_norm=True, dropout=0.0)),
)
