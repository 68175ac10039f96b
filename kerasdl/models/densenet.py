"""DenseNet-121 (Huang et al., 2016)."""

import keras
from keras import layers

from kerasdl._checks import check_float, check_int, check_stem_input
from kerasdl.blocks import (BN_EPSILON, classifier_builder, dense_block, finish, head,
                            transition_block)
from kerasdl.blocks import stem as stem_block
from kerasdl.registry import register


@classifier_builder
def densenet(blocks, input_shape=(224, 224, 3), num_classes=1000, include_top=True,
             pooling=None, classifier_activation="softmax", dropout=0.0, name="densenet",
             growth_rate=32, compression=0.5, stem="imagenet"):
    """A DenseNet-BC: stem, dense blocks joined by compressing transitions, BN-ReLU, pool.

    Its layers come in the same order as keras.applications' DenseNet121, so that
    model's weight files load with ``kerasdl.build(..., weights=PATH)`` (e.g.
    ``densenet121_weights_tf_dim_ordering_tf_kernels.h5``) and give the same outputs.

    Args:
        blocks: layers per dense block, (6, 12, 24, 16) for DenseNet-121 (fixed).
        growth_rate: k, the channels each layer adds (the stem has 2k).
        compression: theta, the fraction of channels a transition keeps.
        stem: "imagenet" (7x7/2 conv and 3x3/2 max pool, input >= 32) or "small"
            (one 3x3 stride-1 conv, for CIFAR-sized input >= 8).
        (others): as in every kerasdl builder.
    """
    check_int(growth_rate, "growth_rate")
    check_float(compression, "compression", 0.0, 1.0, low_inclusive=False, high_inclusive=True)
    input_shape = check_stem_input(stem, input_shape, (224, 224, 3), model=name,
                                   min_sizes=(32, 8))

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = stem_block(inputs, 2 * growth_rate, stem)
    for i, count in enumerate(blocks, start=2):
        x = dense_block(x, count, growth_rate, name=f"conv{i}")
        if i < len(blocks) + 1:
            x = transition_block(x, compression, name=f"pool{i}")
    x = layers.BatchNormalization(epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout)
    return finish(inputs, x, name=name)


register(
    "densenet121", densenet, fixed=dict(blocks=(6, 12, 24, 16)), family="convolutional",
    paper="Huang, Liu, van der Maaten & Weinberger 2016, Densely connected convolutional networks",
    default_input=(224, 224, 3), min_input=(32, 32, 3), num_classes=1000,
    params=7_978_856,
    test_kwargs=dict(input_shape=(16, 16, 3), num_classes=3, stem="small", growth_rate=2),
    train=dict(model=dict(stem="small", growth_rate=12)), width=("growth_rate",),
)
