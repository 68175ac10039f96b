"""ResNet-18/34/50 (He et al., 2015)."""

import keras

from kerasdl._checks import check_float, check_stem_input
from kerasdl.blocks import classifier_builder, finish, head, residual_block, scaled
from kerasdl.blocks import stem as stem_block
from kerasdl.registry import register

STAGE_FILTERS = (64, 128, 256, 512)
PAPER = "He, Zhang, Ren & Sun 2015, Deep residual learning for image recognition"


@classifier_builder
def resnet(blocks, bottleneck, input_shape=(224, 224, 3), num_classes=1000, include_top=True,
           pooling=None, classifier_activation="softmax", dropout=0.0, name="resnet",
           width_multiplier=1.0, stem="imagenet"):
    """A ResNet v1: stem, four stages of residual blocks, global average pooling.

    Convolutions are bias-free and followed by batch norm; shortcuts are projections
    where the shape changes (the paper's option B).

    Args:
        blocks: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18 (fixed by the variant).
        bottleneck: 1x1-3x3-1x1 bottleneck blocks (ResNet-50) instead of basic blocks.
        width_multiplier: scales every stage's filters (64, 128, 256, 512).
        stem: "imagenet" (7x7/2 conv and 3x3/2 max pool, input >= 32) or "small"
            (one 3x3 stride-1 conv, for CIFAR-sized input >= 8).
        (others): as in every kerasdl builder.
    """
    check_float(width_multiplier, "width_multiplier", 0.0, 16.0, low_inclusive=False)
    input_shape = check_stem_input(stem, input_shape, (224, 224, 3), model=name,
                                   min_sizes=(32, 8))

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = stem_block(inputs, scaled(64, width_multiplier), stem)
    for stage, (count, filters) in enumerate(zip(blocks, STAGE_FILTERS), start=2):
        for b in range(1, count + 1):
            x = residual_block(x, scaled(filters, width_multiplier),
                               strides=2 if b == 1 and stage > 2 else 1,
                               bottleneck=bottleneck, name=f"conv{stage}_block{b}")
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout)
    return finish(inputs, x, name=name)


for _depth, _blocks, _bottleneck, _params in (
        (18, (2, 2, 2, 2), False, 11_689_512), (34, (3, 4, 6, 3), False, 21_797_672),
        (50, (3, 4, 6, 3), True, 25_557_032)):
    register(
        f"resnet{_depth}", resnet, fixed=dict(blocks=_blocks, bottleneck=_bottleneck),
        family="convolutional", paper=PAPER, default_input=(224, 224, 3),
        min_input=(32, 32, 3), num_classes=1000, params=_params,
        test_kwargs=dict(input_shape=(16, 16, 3), num_classes=3, stem="small",
                         width_multiplier=1 / 16),
        train=dict(model=dict(stem="small", width_multiplier=0.25)),
        width=("width_multiplier",),
    )
