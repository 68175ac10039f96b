"""VGG-11/13/16/19 (Simonyan & Zisserman, 2014), optionally with batch norm."""

import keras
from keras import layers

from kerasdl._checks import check_float, check_input_shape, check_int_tuple
from kerasdl.blocks import classifier_builder, conv_bn_act, finish, head, scaled
from kerasdl.registry import register

CONVS_PER_STAGE = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3),
                   19: (2, 2, 4, 4, 4)}
STAGE_FILTERS = (64, 128, 256, 512, 512)
PAPER = "Simonyan & Zisserman 2014, Very deep convolutional networks (configuration {})"


@classifier_builder
def vgg(depth, input_shape=(224, 224, 3), num_classes=1000, include_top=True, pooling=None,
        classifier_activation="softmax", dropout=0.5, name="vgg", width_multiplier=1.0,
        fc_units=4096, batch_norm=False):
    """A VGG network: five stages of 3x3 convolutions and 2x2 max pooling, then fc1, fc2.

    Its layers come in the same order as keras.applications' VGG16/VGG19, so their
    weight files load with ``kerasdl.build(..., weights=PATH)`` (e.g.
    ``vgg16_weights_tf_dim_ordering_tf_kernels.h5``) and give the same outputs.

    Args:
        depth: 11, 13, 16 or 19 (fixed by the registered variant).
        width_multiplier: scales every stage's filters (64, 128, 256, 512, 512).
        fc_units: width of fc1 and fc2 (the paper: 4096).
        batch_norm: batch norm after every convolution (not in the paper).
        (others): as in every kerasdl builder.
    """
    check_float(width_multiplier, "width_multiplier", 0.0, 16.0, low_inclusive=False)
    (fc_units,) = check_int_tuple(fc_units, "fc_units")
    input_shape = check_input_shape(input_shape, (224, 224, 3), model=name, min_size=32)
    inputs = keras.Input(shape=input_shape, name="inputs")
    x = inputs
    for stage, (convs, filters) in enumerate(zip(CONVS_PER_STAGE[depth], STAGE_FILTERS), 1):
        for i in range(1, convs + 1):
            x = conv_bn_act(x, scaled(filters, width_multiplier), 3, batch_norm=batch_norm,
                            name=f"block{stage}_conv{i}")
        x = layers.MaxPooling2D(2, strides=2, name=f"block{stage}_pool")(x)
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout,
             hidden_units=(fc_units, fc_units), flatten=True)
    return finish(inputs, x, name=name)


TINY = dict(input_shape=(32, 32, 3), num_classes=3, width_multiplier=1 / 8, fc_units=32,
            batch_norm=True, dropout=0.0)
TRAIN = dict(image_size=32, model=dict(width_multiplier=0.25, fc_units=256))
for _depth, _params, _letter in ((11, 132_863_336, "A"), (13, 133_047_848, "B"),
                                 (16, 138_357_544, "D"), (19, 143_667_240, "E")):
    register(
        f"vgg{_depth}", vgg, fixed=dict(depth=_depth), family="convolutional",
        paper=PAPER.format(_letter), default_input=(224, 224, 3), min_input=(32, 32, 3),
        num_classes=1000, params=_params, test_kwargs=TINY, train=TRAIN,
        width=("width_multiplier",),
    )
