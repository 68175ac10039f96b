"""Diffusion: the noise-predicting U-Net of DDPM (Ho, Jain & Abbeel, 2020)."""

import keras
from keras import layers

from kerasdl._checks import check_float, check_input_shape, check_int, check_int_tuple
from kerasdl.layers import TimestepEmbedding


def noise_unet(input_shape=(28, 28, 1), filters=32, multipliers=(1, 2, 2), res_blocks=1,
               groups=8, heads=1, dropout=0.1, num_classes=None, name="noise_unet"):
    """DDPM's denoiser: from a noised image x_t and its timestep t (and, conditional, a
    label), the noise eps in x_t, of x_t's shape.

    A U-Net of residual blocks (group norm, swish, 3x3 convolution, twice; the timestep's
    embedding added between), `res_blocks` per level at ``filters * multipliers[level]``
    channels, a stride-2 convolution down and nearest upsampling and a convolution up
    between levels, and at the lowest resolution a block, self-attention over its pixels
    and a block; every block of the way up takes the matching map of the way down
    (concatenated). The timestep enters as its sinusoids through a two-layer MLP (4 x
    `filters` wide); a label (``num_classes``) adds its embedding to it, index
    `num_classes` standing for "no label" (classifier-free guidance, Ho & Salimans 2022).

    Args:
        input_shape: the images' (height, width, channels); each side a multiple of
            2 ** (len(multipliers) - 1).
        filters, multipliers: the channels of each level (DDPM's CIFAR-10 net: 128, (1, 2,
            2, 2)).
        res_blocks: residual blocks per level on the way down (one more on the way up).
        groups: group normalization's groups (DDPM: 32); each level's channels must be a
            multiple of it.
        heads: the self-attention's heads.
        dropout: inside each residual block (DDPM: 0.1 on CIFAR-10).
        num_classes: None (unconditional) or the classes of a label input.
        name: the model's name.

    Returns:
        A `keras.Model` of inputs ``[x_t, t]`` (``[x_t, t, label]``), t and label int32
        of shape (N,).
    """
    check_int(filters, "filters")
    multipliers = check_int_tuple(multipliers, "multipliers")
    check_int(res_blocks, "res_blocks")
    check_int(groups, "groups")
    check_int(heads, "heads")
    check_float(dropout, "dropout", 0.0, 1.0)
    input_shape = check_input_shape(input_shape, (28, 28, 1), model=name, min_size=1)
    stride = 2 ** (len(multipliers) - 1)
    if input_shape[0] % stride or input_shape[1] % stride:
        raise ValueError(f"{name} halves its maps {len(multipliers) - 1} times "
                         f"(multipliers={multipliers}), so each side of the images must be a "
                         f"multiple of {stride}; received input_shape={input_shape}.")
    widths = [filters * m for m in multipliers]
    if any(w % groups for w in widths):
        raise ValueError(f"`groups`={groups} must divide every level's channels, {widths} "
                         f"(filters * multipliers).")
    if widths[-1] % heads:
        raise ValueError(f"`heads`={heads} must divide the lowest level's {widths[-1]} "
                         f"channels.")

    image = keras.Input(input_shape, name="x_t")
    t = keras.Input((), dtype="int32", name="t")
    inputs = [image, t]
    embedding = TimestepEmbedding(filters, name="t_sinusoids")(t)
    embedding = layers.Dense(4 * filters, activation="swish", name="t_dense1")(embedding)
    embedding = layers.Dense(4 * filters, name="t_dense2")(embedding)
    if num_classes is not None:
        check_int(num_classes, "num_classes")
        label = keras.Input((), dtype="int32", name="label")
        inputs.append(label)
        embedding = layers.Add(name="label_added")(
            [embedding, layers.Embedding(num_classes + 1, 4 * filters, name="label_embedding")(
                label)])
    block = dict(embedding=embedding, groups=groups, dropout=dropout)

    x = layers.Conv2D(filters, 3, padding="same", name="stem")(image)
    skips = [x]
    for level, width in enumerate(widths):
        for i in range(res_blocks):
            x = _residual(x, width, name=f"down{level}_{i}", **block)
            skips.append(x)
        if level < len(widths) - 1:
            x = layers.Conv2D(width, 3, strides=2, padding="same", name=f"down{level}_pool")(x)
            skips.append(x)
    x = _residual(x, widths[-1], name="middle_1", **block)
    x = _attention(x, groups, heads, name="middle_attention")
    x = _residual(x, widths[-1], name="middle_2", **block)
    for level, width in reversed(list(enumerate(widths))):
        for i in range(res_blocks + 1):
            x = layers.Concatenate(name=f"up{level}_{i}_concat")([x, skips.pop()])
            x = _residual(x, width, name=f"up{level}_{i}", **block)
        if level:
            x = layers.UpSampling2D(2, name=f"up{level}_upsample")(x)
            x = layers.Conv2D(width, 3, padding="same", name=f"up{level}_conv")(x)
    x = layers.GroupNormalization(groups, name="out_norm")(x)
    x = layers.Activation("swish", name="out_swish")(x)
    noise = layers.Conv2D(input_shape[-1], 3, padding="same", kernel_initializer="zeros",
                          name="noise")(x)  # zero at the start, as DDPM's last layer
    return keras.Model(inputs, noise, name=name)


def _residual(x, filters, *, embedding, groups, dropout, name):
    """DDPM's residual block: norm, swish, conv; + the timestep's projection; norm,
    swish, dropout, conv; the input added (through a 1x1 convolution when its channels
    differ)."""
    h = layers.GroupNormalization(groups, name=f"{name}_norm1")(x)
    h = layers.Activation("swish", name=f"{name}_swish1")(h)
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv1")(h)
    step = layers.Dense(filters, name=f"{name}_t")(layers.Activation(
        "swish", name=f"{name}_t_swish")(embedding))
    h = layers.Add(name=f"{name}_t_added")([h, layers.Reshape((1, 1, filters),
                                                               name=f"{name}_t_map")(step)])
    h = layers.GroupNormalization(groups, name=f"{name}_norm2")(h)
    h = layers.Activation("swish", name=f"{name}_swish2")(h)
    if dropout:
        h = layers.Dropout(dropout, name=f"{name}_dropout")(h)
    h = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(h)
    if x.shape[-1] != filters:
        x = layers.Conv2D(filters, 1, name=f"{name}_shortcut")(x)
    return layers.Add(name=f"{name}_added")([x, h])


def _attention(x, groups, heads, *, name):
    """Self-attention over a map's pixels, after group norm, added to its input."""
    height, width, channels = x.shape[1:]
    h = layers.GroupNormalization(groups, name=f"{name}_norm")(x)
    h = layers.Reshape((height * width, channels), name=f"{name}_pixels")(h)
    h = layers.MultiHeadAttention(heads, channels // heads, name=f"{name}_mha")(h, h)
    h = layers.Reshape((height, width, channels), name=f"{name}_map")(h)
    return layers.Add(name=f"{name}_added")([x, h])
