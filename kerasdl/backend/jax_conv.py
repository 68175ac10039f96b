"""Convolutions on JAX's CPU backend: compiled without YNNPACK, and strided transposed
convolutions as stride-1 convolutions, one per output phase.

jaxlib 0.10's CPU compiler hands convolutions to YNNPACK by default, which is slow at the
shapes of a CNN's training step: the kernel gradient of a 3x3 convolution over 32x32x64
images (batch 64) took 130 ms against 32 ms with XLA's own (Eigen) convolution, and
ResNet-18's training step 1.84 s against 0.99 s. One patch makes Keras's compiled
functions (`fit`, `evaluate`, `predict`) use YNNPACK for everything it does by default
except convolutions (the compiler option ``xla_cpu_experimental_ynn_fusion_type``), on a
CPU and where the installed jaxlib knows the option's values.

XLA's CPU backend runs a strided transposed convolution (an input-dilated convolution) about
10x slower than TensorFlow or PyTorch do: one DCGAN generator layer (7x7x128 -> 14x14x64,
kernel 4, stride 2) took 178 ms per training step against 12-18 ms. The same result is a
sum over the kernel taps that reach each output phase: output position ``m*s + r`` (stride
`s`, phase `r`) only ever meets the taps ``t = q*s + c_r``, so every phase is an ordinary
stride-1 convolution of the input with a ``k/s``-wide sub-kernel, and the phases interleave
into the output ("sub-pixel convolution"). Their gradients are stride-1 convolutions too.

The other replaces the JAX backend's ``conv_transpose`` (what `keras.layers.Conv1DTranspose`,
`Conv2DTranspose`, `Conv3DTranspose` and `keras.ops.conv_transpose` call) with `conv_transpose`,
which takes this route for ``padding="same"``, channels-last data, no dilation or output
padding, and kernels a multiple of the stride (DCGAN's 4 and 2), and hands anything else to
Keras. Outputs equal Keras's within float rounding (`tests/test_backend_kernels.py`).
"""

import functools
import itertools

import jax
import jax.numpy as jnp
from keras.src.backend import standardize_data_format
from keras.src.backend.jax import nn as keras_nn
from keras.src.backend.jax import trainer

from kerasdl.backend.patching import Patch

# jaxlib 0.10's default YNNPACK fusions, less LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION
WITHOUT_YNN_CONVOLUTIONS = {"xla_cpu_experimental_ynn_fusion_type": ",".join(
    f"LIBRARY_FUSION_TYPE_{kind}" for kind in ("DOT", "REDUCE", "INDIVIDUAL_DOT"))}


@functools.cache
def cpu_compiles_with(compiler_options):
    """Whether JAX runs on a CPU and its compiler takes `compiler_options` (a tuple of
    pairs; a jax or jaxlib that does not know an option or its values keeps its
    defaults)."""
    if jax.default_backend() != "cpu":
        return False
    try:
        jax.jit(lambda x: x + 1, compiler_options=dict(compiler_options)).lower(1.0).compile()
    except (TypeError, RuntimeError):
        return False
    return True


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    spatial = kernel.ndim - 2
    strides = (strides,) * spatial if isinstance(strides, int) else tuple(strides)
    dilation = (dilation_rate,) * spatial if isinstance(dilation_rate, int) \
        else tuple(dilation_rate)
    sizes = kernel.shape[:spatial]
    if (padding.lower() != "same" or output_padding is not None or set(dilation) != {1}
            or standardize_data_format(data_format) != "channels_last"
            or max(strides) == 1
            or any(k % s or k < s for k, s in zip(sizes, strides))):
        return PATCHES[1].original(inputs, kernel, strides, padding, output_padding,
                                   data_format, dilation_rate)
    return _by_phases(jnp.asarray(inputs), jnp.asarray(kernel), strides)


def _by_phases(x, kernel, strides):
    """Keras's ``conv_transpose(x, kernel, strides, padding="same")`` (channels last;
    kernel (*spatial, out, in)) as one stride-1 convolution per output phase."""
    spatial = len(strides)
    sizes = kernel.shape[:spatial]
    dims = "".join("DHW"[-spatial:])
    numbers = (f"N{dims}C", f"{dims}IO", f"N{dims}C")
    phases = []
    for phase in itertools.product(*(range(s) for s in strides)):
        pads, v = [(0, 0)], kernel
        for axis, (r, k, s) in enumerate(zip(phase, sizes, strides)):
            before = (k - s) // 2  # "same" crops this much of the full transposed output
            c, d = (r + before) % s, (r + before) // s
            taps = [(k // s - 1 - u) * s + c for u in range(k // s)]
            v = jnp.take(v, jnp.array(taps), axis=axis)
            pads.append((k // s - 1 - d, d))
        v = jnp.swapaxes(v, -1, -2)  # (*taps, in, out)
        padded = jnp.pad(x, pads + [(0, 0)])
        phases.append(jax.lax.conv_general_dilated(padded, v, (1,) * spatial, "VALID",
                                                   dimension_numbers=numbers))
    # (*strides, batch, *spatial, out) -> (batch, n1, s1, n2, s2, ..., out) -> interleaved
    out = jnp.stack(phases).reshape(*strides, *phases[0].shape)
    order = [spatial] + [a for i in range(spatial) for a in (spatial + 1 + i, i)] \
        + [2 * spatial + 1]
    out = jnp.transpose(out, order)
    batch, *lengths, channels = phases[0].shape
    return out.reshape(batch, *(n * s for n, s in zip(lengths, strides)), channels)


def _jit_is_jax_and_a_cpu_takes_the_option():
    # else a GPU or TPU (YNNPACK is a CPU library), or Flax NNX's jit
    return (PATCHES[0].original is jax.jit
            and cpu_compiles_with(tuple(WITHOUT_YNN_CONVOLUTIONS.items())))


PATCHES = [
    Patch(trainer, "jit", functools.partial(jax.jit, compiler_options=WITHOUT_YNN_CONVOLUTIONS),
          signature=False, applies=_jit_is_jax_and_a_cpu_takes_the_option,
          name="jax_conv (compilation without YNNPACK convolutions)"),
    Patch(keras_nn, "conv_transpose", conv_transpose, name="jax_conv (conv_transpose)"),
]
