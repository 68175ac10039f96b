"""Building blocks shared by the builders: written once, named predictably.

Every block takes a symbolic tensor and a `name` prefix and returns a tensor; layer
names follow keras.applications (``conv2_block1_1_conv``, ``predictions``).
"""

import functools
import inspect
import re

import keras
from keras import layers

from kerasdl._checks import check_activation, check_choice, check_float, check_int

BN_EPSILON = 1.001e-5


def scaled(filters, width_multiplier):
    """`filters` scaled by `width_multiplier`, at least 1."""
    return max(1, int(round(filters * width_multiplier)))


def conv_bn_act(x, filters, kernel_size, *, strides=1, padding="same", activation="relu",
                batch_norm=True, name):
    """Conv2D -> BatchNorm -> activation (``{name}_conv``, ``{name}_bn``, ``{name}_{act}``).

    With batch norm the convolution has no bias (BN's beta replaces it); without, the
    activation is fused into the convolution, as in the original papers. Kernels start
    from He initialization (He et al., 2015), which lets deep plain ReLU stacks such as
    VGG-19 train from scratch.
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=not batch_norm, activation=None if batch_norm else activation,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    if batch_norm:
        x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
        if activation is not None:
            x = layers.Activation(activation, name=f"{name}_{activation}")(x)
    return x


def stem(x, filters, kind, *, name="conv1"):
    """The ResNet/DenseNet stem.

    "imagenet": 7x7 stride-2 convolution and 3x3 stride-2 max pooling (a quarter of the
    resolution); "small": one 3x3 stride-1 convolution, for CIFAR-sized images.
    """
    if kind == "small":
        return conv_bn_act(x, filters, 3, name=name)
    x = layers.ZeroPadding2D(3, name=f"{name}_pad")(x)
    x = conv_bn_act(x, filters, 7, strides=2, padding="valid", name=name)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1")(x)


def bn_act_conv(x, filters, kernel_size, *, name, padding="same"):
    """Pre-activation BatchNorm -> ReLU -> Conv2D, as in DenseNet."""
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    return layers.Conv2D(filters, kernel_size, padding=padding, use_bias=False,
                         name=f"{name}_conv")(x)


def residual_block(x, filters, *, strides=1, bottleneck=False, name):
    """ResNet v1 block (He et al., 2015): basic (3x3, 3x3) or bottleneck (1x1, 3x3, 1x1 x4).

    The shortcut is the identity, or a 1x1 projection with batch norm when the shape
    changes (the paper's option B). The stride sits in the block's first convolution.
    """
    out_filters = filters * 4 if bottleneck else filters
    if strides != 1 or x.shape[-1] != out_filters:
        shortcut = conv_bn_act(x, out_filters, 1, strides=strides, activation=None,
                               name=f"{name}_0")
    else:
        shortcut = x
    if bottleneck:
        y = conv_bn_act(x, filters, 1, strides=strides, name=f"{name}_1")
        y = conv_bn_act(y, filters, 3, name=f"{name}_2")
        y = conv_bn_act(y, out_filters, 1, activation=None, name=f"{name}_3")
    else:
        y = conv_bn_act(x, filters, 3, strides=strides, name=f"{name}_1")
        y = conv_bn_act(y, filters, 3, activation=None, name=f"{name}_2")
    x = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.Activation("relu", name=f"{name}_out")(x)


def inception_module(x, filters, *, large_kernel=5, batch_norm=True, name):
    """Inception v1 module (Szegedy et al., 2014): four branches concatenated.

    Args:
        filters: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection), the paper's
            Table 1 columns.
        large_kernel: kernel of the "5x5" branch.
    """
    c1, c3r, c3, c5r, c5, cp = filters
    conv = dict(batch_norm=batch_norm)
    b1 = conv_bn_act(x, c1, 1, name=f"{name}_1x1", **conv)
    b2 = conv_bn_act(x, c3r, 1, name=f"{name}_3x3_reduce", **conv)
    b2 = conv_bn_act(b2, c3, 3, name=f"{name}_3x3", **conv)
    b3 = conv_bn_act(x, c5r, 1, name=f"{name}_5x5_reduce", **conv)
    b3 = conv_bn_act(b3, c5, large_kernel, name=f"{name}_5x5", **conv)
    b4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    b4 = conv_bn_act(b4, cp, 1, name=f"{name}_pool_proj", **conv)
    return layers.Concatenate(name=f"{name}_concat")([b1, b2, b3, b4])


def dense_block(x, num_layers, growth_rate, *, name):
    """DenseNet dense block (Huang et al., 2016): BN-ReLU-1x1(4k)-BN-ReLU-3x3(k), concat."""
    for i in range(1, num_layers + 1):
        prefix = f"{name}_block{i}"
        y = bn_act_conv(x, 4 * growth_rate, 1, name=f"{prefix}_0")
        y = bn_act_conv(y, growth_rate, 3, name=f"{prefix}_1")
        x = layers.Concatenate(name=f"{prefix}_concat")([x, y])
    return x


def transition_block(x, compression, *, name):
    """DenseNet transition: BN-ReLU-1x1 conv (channels x compression), 2x2 average pool."""
    x = bn_act_conv(x, int(x.shape[-1] * compression), 1, name=name)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


HEAD_ARGUMENTS = {
    "num_classes": "number of classes (output units of ``predictions``).",
    "include_top": "if False, return the features without the classifier.",
    "pooling": 'with ``include_top=False``: None (the feature map), "avg" or "max" '
               "(globally pooled).",
    "classifier_activation": 'of ``predictions``: "softmax", None for logits, ...',
    "dropout": "dropout rate in the classifier, in [0, 1).",
    "name": "the model's name.",
}
_MARK = "(others): as in every kerasdl builder."


def classifier_builder(builder):
    """Decorate a builder that ends in a classifier: the arguments every such builder
    shares (`HEAD_ARGUMENTS`, those in its signature) are checked here, before it runs,
    and those its docstring does not describe itself are documented in place of its
    ``(others): as in every kerasdl builder.`` line."""
    signature = inspect.signature(builder)
    shared = [n for n in HEAD_ARGUMENTS if n in signature.parameters]
    checks = {"num_classes": lambda v: check_int(v, "num_classes"),
              "include_top": _check_bool, "pooling": lambda v: check_choice(
                  v, "pooling", (None, "avg", "max")),
              "classifier_activation": lambda v: check_activation(v, "classifier_activation"),
              "dropout": lambda v: check_float(v, "dropout", 0.0, 1.0), "name": _check_name}

    @functools.wraps(builder)
    def checked(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        for argument in shared:
            checks[argument](bound.arguments[argument])
        return builder(*args, **kwargs)

    doc = builder.__doc__ or ""
    undocumented = [n for n in shared if not re.search(rf"^ +{n}:", doc, re.MULTILINE)]
    if undocumented and _MARK not in doc:
        raise ValueError(f"{builder.__name__}'s docstring describes neither {undocumented} "
                         f"nor has the line {_MARK!r}.")
    indent = "\n" + " " * 8
    checked.__doc__ = doc.replace(_MARK, indent.join(
        f"{n}: {HEAD_ARGUMENTS[n]}" for n in undocumented))
    return checked


def _check_bool(value):
    if not isinstance(value, bool):
        raise TypeError(f"`include_top` must be True or False; received include_top={value!r}.")


def _check_name(value):
    if not isinstance(value, str) or not value:
        raise TypeError(f"`name` must be a non-empty string; received name={value!r}.")


def head(x, *, num_classes, include_top, pooling, classifier_activation, dropout,
         hidden_units=(), hidden_activation="relu", flatten=False):
    """The classifier on top of a feature extractor, shared by every vision builder.

    `include_top=False` returns the features, globally pooled if `pooling` is "avg"
    or "max". Otherwise the features are flattened (``flatten=True``: LeNet, AlexNet,
    VGG) or globally average-pooled (ResNet, GoogLeNet, DenseNet), passed through
    `hidden_units` dense layers (``fc1``, ``fc2``, ...) each followed by `dropout`, and
    classified by ``predictions``.
    """
    if not include_top:
        if pooling == "avg":
            return layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if pooling == "max":
            return layers.GlobalMaxPooling2D(name="max_pool")(x)
        return x
    if flatten:
        x = layers.Flatten(name="flatten")(x)
    else:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    for i, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation=hidden_activation, name=f"fc{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    if dropout and not hidden_units:
        x = layers.Dropout(dropout, name="top_dropout")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)


def finish(inputs, outputs, *, name):
    """Wrap the graph in a `keras.Model` (`kerasdl.build` then loads any `weights`)."""
    return keras.Model(inputs, outputs, name=name)


def feature_maps(model):
    """A model of `model`'s feature maps, one per resolution its layers reach: the last
    layer at each (a stage's end, before the map is halved), highest resolution first,
    as timm's ``features_only`` gives them. The layers (and weights) are `model`'s own.

    The outputs are named by their layers; ``model.output_names`` and the shapes of
    ``model.outputs`` give each one's resolution and channels.
    """
    last = {}
    for layer in model.layers:
        if isinstance(layer, (keras.layers.InputLayer, keras.layers.ZeroPadding2D)) \
                or len(layer.output.shape) != 4:  # a padded map is no feature
            continue
        last[layer.output.shape[1:3]] = layer
    if not last:
        raise ValueError(f"{model.name} has no feature maps (no layer with a 4-D output).")
    maps = sorted(last.values(), key=lambda layer: -layer.output.shape[1])
    return keras.Model(model.inputs, [layer.output for layer in maps],
                       name=f"{model.name}_features")
