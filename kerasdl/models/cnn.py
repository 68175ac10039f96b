"""Small and early convolutional networks: SimpleCNN, LeNet-5, AlexNet."""

import keras
from keras import layers

from kerasdl._checks import check_float, check_input_shape, check_int_tuple, check_stem_input
from kerasdl.blocks import classifier_builder, conv_bn_act, finish, head, scaled
from kerasdl.layers import LocalResponseNormalization
from kerasdl.registry import register


@classifier_builder
def simple_cnn(input_shape=(28, 28, 1), num_classes=10, include_top=True, pooling=None,
               classifier_activation="softmax", dropout=0.0, name="simple_cnn",
               filters=(16, 32), units=(128,), batch_norm=False):
    """The textbook first CNN: conv16-pool-conv32-pool-dense128 (3x3 convs, ReLU).

    Args:
        filters: filters of each conv-pool stage.
        units: hidden dense layers of the classifier.
        batch_norm: batch norm after each convolution.
        (others): as in every kerasdl builder.
    """
    filters = check_int_tuple(filters, "filters")
    units = check_int_tuple(units, "units")
    input_shape = check_input_shape(input_shape, (28, 28, 1), model=name,
                                    min_size=2 ** len(filters))
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    for i, f in enumerate(filters, start=1):
        x = conv_bn_act(x, f, 3, batch_norm=batch_norm, name=f"conv{i}")
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout,
             hidden_units=units, flatten=True)
    return finish(inputs, x, name=name)


@classifier_builder
def lenet5(input_shape=(32, 32, 1), num_classes=10, include_top=True, pooling=None,
           classifier_activation="softmax", dropout=0.0, name="lenet5", filters=(6, 16),
           units=(120, 84), modern=False):
    """LeNet-5 (LeCun et al., 1998): C1 6@5x5, S2, C3 16@5x5, S4, C5 120, F6 84, output.

    Inputs smaller than 32x32 (MNIST's 28x28) are zero-padded to 32x32, as the paper
    did. C5 is a 5x5 convolution over the 5x5 S4 maps, i.e. a dense layer over them;
    it is built as ``fc1``. The paper's RBF output layer is replaced by a softmax.

    Args:
        filters: maps of C1 and C3.
        units: widths of C5 and F6.
        modern: ReLU and max pooling instead of the paper's tanh and average pooling.
        (others): as in every kerasdl builder.
    """
    filters = check_int_tuple(filters, "filters")
    units = check_int_tuple(units, "units")
    if len(filters) != 2:
        raise ValueError(f"`filters` for lenet5 must give C1 and C3; received filters={filters!r}.")
    input_shape = check_input_shape(input_shape, (32, 32, 1), model=name, min_size=28)
    activation = "relu" if modern else "tanh"
    pool = layers.MaxPooling2D if modern else layers.AveragePooling2D

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    pad_h, pad_w = max(0, 32 - input_shape[0]), max(0, 32 - input_shape[1])
    if pad_h or pad_w:
        x = layers.ZeroPadding2D(((pad_h // 2, pad_h - pad_h // 2),
                                  (pad_w // 2, pad_w - pad_w // 2)), name="pad")(x)
    x = conv_bn_act(x, filters[0], 5, padding="valid", activation=activation,
                    batch_norm=False, name="c1")
    x = pool(2, name="s2")(x)
    x = conv_bn_act(x, filters[1], 5, padding="valid", activation=activation,
                    batch_norm=False, name="c3")
    x = pool(2, name="s4")(x)
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout,
             hidden_units=units, hidden_activation=activation, flatten=True)
    return finish(inputs, x, name=name)


@classifier_builder
def alexnet(input_shape=(227, 227, 3), num_classes=1000, include_top=True, pooling=None,
            classifier_activation="softmax", dropout=0.5, name="alexnet",
            width_multiplier=1.0, fc_units=4096, local_response_norm=True, stem="imagenet"):
    """AlexNet (Krizhevsky et al., 2012), the original single-tower 96-256-384-384-256.

    Args:
        width_multiplier: scales every convolution's filters.
        fc_units: width of the two hidden dense layers (the paper: 4096).
        local_response_norm: LRN after conv1 and conv2, as in the paper.
        stem: "imagenet" (11x11 stride-4 conv1, input >= 67) or "small" (3x3 stride-1
            conv1 for CIFAR-sized input >= 15).
        (others): as in every kerasdl builder.
    """
    check_float(width_multiplier, "width_multiplier", 0.0, 16.0, low_inclusive=False)
    (fc_units,) = check_int_tuple(fc_units, "fc_units")
    input_shape = check_stem_input(stem, input_shape, (227, 227, 3), model=name,
                                   min_sizes=(67, 15))
    f = lambda n: scaled(n, width_multiplier)  # noqa: E731

    inputs = keras.Input(shape=input_shape, name="inputs")
    if stem == "imagenet":
        x = conv_bn_act(inputs, f(96), 11, strides=4, padding="valid", batch_norm=False,
                        name="conv1")
    else:
        x = conv_bn_act(inputs, f(96), 3, batch_norm=False, name="conv1")
    x = _lrn_pool(x, local_response_norm, index=1)
    x = conv_bn_act(x, f(256), 5, batch_norm=False, name="conv2")
    x = _lrn_pool(x, local_response_norm, index=2)
    x = conv_bn_act(x, f(384), 3, batch_norm=False, name="conv3")
    x = conv_bn_act(x, f(384), 3, batch_norm=False, name="conv4")
    x = conv_bn_act(x, f(256), 3, batch_norm=False, name="conv5")
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout,
             hidden_units=(fc_units, fc_units), flatten=True)
    return finish(inputs, x, name=name)


def _lrn_pool(x, local_response_norm, *, index):
    """AlexNet's optional LRN followed by overlapping 3x3 stride-2 max pooling."""
    if local_response_norm:
        x = LocalResponseNormalization(name=f"lrn{index}")(x)
    return layers.MaxPooling2D(3, strides=2, name=f"pool{index}")(x)


SMALL_IMAGE = dict(input_shape=(16, 16, 3), num_classes=3)

register(
    "simple_cnn", simple_cnn, family="convolutional",
    paper="LeCun et al. 1989 (the textbook conv-pool-conv-pool-dense network)",
    default_input=(28, 28, 1), min_input=(4, 4, 1), num_classes=10, params=206_922,
    test_kwargs=dict(SMALL_IMAGE, filters=(8, 16), units=(32,)),
    train=dict(epochs=10), width=("filters", "units"),
)
register(
    "lenet5", lenet5, family="convolutional",
    paper="LeCun et al. 1998, Gradient-based learning applied to document recognition",
    default_input=(32, 32, 1), min_input=(28, 28, 1), num_classes=10, params=61_706,
    test_kwargs=dict(input_shape=(28, 28, 1), num_classes=3, filters=(4, 8), units=(16, 12)),
    train=dict(epochs=40, batch_size=64, lr=3e-3), width=("filters", "units"),
)
register(
    "alexnet", alexnet, family="convolutional",
    paper="Krizhevsky, Sutskever & Hinton 2012, ImageNet classification with deep CNNs",
    default_input=(227, 227, 3), min_input=(67, 67, 3), num_classes=1000,
    params=62_378_344,
    test_kwargs=dict(SMALL_IMAGE, stem="small", width_multiplier=1 / 4, fc_units=64, dropout=0.0),
    train=dict(model=dict(stem="small", width_multiplier=0.25, fc_units=512)),
    width=("width_multiplier",),
)
