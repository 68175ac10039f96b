"""GoogLeNet / Inception v1 (Szegedy et al., 2014)."""

import keras
from keras import layers

from kerasdl._checks import check_float, check_int, check_stem_input
from kerasdl.blocks import classifier_builder, conv_bn_act, finish, head, inception_module, scaled
from kerasdl.registry import register

# The paper's Table 1: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj) per module,
# and the name of the stride-2 max pool that sits between stages.
MODULES = (
    ("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64)), "pool3",
    ("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)), ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)), "pool4",
    ("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128)),
)
AUX_AFTER = ("4a", "4d")


@classifier_builder
def googlenet(input_shape=(224, 224, 3), num_classes=1000, include_top=True, pooling=None,
              classifier_activation="softmax", dropout=0.4, name="googlenet",
              width_multiplier=1.0, aux_classifiers=False, batch_norm=True, large_kernel=3,
              stem="imagenet"):
    """GoogLeNet: a 7x7 stem, nine inception modules, global average pooling, dropout 0.4.

    Args:
        width_multiplier: scales every convolution's filters.
        aux_classifiers: add the paper's two auxiliary classifiers (after 4a and 4d:
            5x5/3 average pool, 1x1 conv 128, fc 1024, dropout 0.7); the model then has
            three outputs, main first, to be weighted 1, 0.3, 0.3 in the loss.
        batch_norm: conv-BN-ReLU units (bias-free convolutions), as in the reference
            implementations; False gives the paper's biased conv-ReLU.
        large_kernel: kernel of each module's "5x5" branch. The default 3 follows the
            torchvision reference implementation, whose 6,624,904 parameters are the
            figure usually quoted; 5 is the paper's kernel (7,005,832 parameters).
        stem: "imagenet" (the paper's 7x7/2 conv and max pools, input >= 32) or "small"
            (3x3 convs at stride 1, no early pooling, for CIFAR-sized input >= 8).
        (others): as in every kerasdl builder.
    """
    check_float(width_multiplier, "width_multiplier", 0.0, 16.0, low_inclusive=False)
    check_int(large_kernel, "large_kernel")
    input_shape = check_stem_input(stem, input_shape, (224, 224, 3), model=name,
                                   min_sizes=(32, 8))
    if aux_classifiers and not include_top:
        raise ValueError("`aux_classifiers=True` needs include_top=True: the auxiliary "
                         "classifiers are part of the top.")
    f = lambda n: scaled(n, width_multiplier)  # noqa: E731
    conv = dict(batch_norm=batch_norm)

    inputs = keras.Input(shape=input_shape, name="inputs")
    if stem == "imagenet":
        x = conv_bn_act(inputs, f(64), 7, strides=2, name="conv1", **conv)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
        x = conv_bn_act(x, f(64), 1, name="conv2_reduce", **conv)
        x = conv_bn_act(x, f(192), 3, name="conv2", **conv)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    else:
        x = conv_bn_act(inputs, f(64), 3, name="conv1", **conv)
        x = conv_bn_act(x, f(192), 3, name="conv2", **conv)
    aux_outputs = []
    for module in MODULES:
        if isinstance(module, str):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=module)(x)
            continue
        label, filters = module
        x = inception_module(x, [f(n) for n in filters], large_kernel=large_kernel,
                             name=f"inception{label}", **conv)
        if aux_classifiers and label in AUX_AFTER:
            aux_outputs.append(_aux_classifier(x, num_classes, classifier_activation,
                                               f, conv, input_shape, name=f"aux{label}"))
    x = head(x, num_classes=num_classes, include_top=include_top, pooling=pooling,
             classifier_activation=classifier_activation, dropout=dropout)
    return finish(inputs, [x, *aux_outputs] if aux_outputs else x, name=name)


def _aux_classifier(x, num_classes, activation, f, conv, input_shape, *, name):
    if min(x.shape[1:3]) < 5:
        raise ValueError(
            f"`aux_classifiers=True` needs the {name[3:]} feature map to be at least 5x5 for "
            f"its 5x5 average pool; input_shape={input_shape!r} gives "
            f"{x.shape[1]}x{x.shape[2]}. Use a larger input or aux_classifiers=False."
        )
    x = layers.AveragePooling2D(5, strides=3, name=f"{name}_pool")(x)
    x = conv_bn_act(x, f(128), 1, name=f"{name}_conv", **conv)
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(f(1024), activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return layers.Dense(num_classes, activation=activation, name=f"{name}_predictions")(x)


register(
    "googlenet", googlenet, family="convolutional",
    paper="Szegedy et al. 2014, Going deeper with convolutions",
    default_input=(224, 224, 3), min_input=(32, 32, 3), num_classes=1000,
    params=6_624_904,
    test_kwargs=dict(input_shape=(16, 16, 3), num_classes=3, stem="small",
                     width_multiplier=1 / 16),
    train=dict(model=dict(stem="small", width_multiplier=0.25)),
    width=("width_multiplier",),
)
