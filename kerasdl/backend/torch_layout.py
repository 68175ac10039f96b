"""Convolutions and pooling on PyTorch without layout copies.

Keras's layers keep their data channels-last, (batch, *spatial, channels); PyTorch's
kernels take (batch, channels, *spatial). Before each convolution, transposed
convolution and pooling, Keras 3.15's PyTorch backend permutes the axes and copies the
result into channels-first memory (``.contiguous()``), and a convolution copies it back
into channels-last memory, which PyTorch's CPU convolutions prefer. But the permuted
tensor already is channels-last memory: the copies, and the copies of their gradients,
move data for nothing (on LeNet-5, four copies of its first activations per training
step). Its patch makes the permutation keep channels-last memory, copying only an input
that is not contiguous to begin with, as later Keras does for convolutions
(keras-team/keras#23199) and proposes for pooling (#23645). PyTorch's kernels read either
layout and compute the same values (`tests/test_backend_kernels.py`). Sequences (one
spatial axis) keep Keras's path: PyTorch has no channels-last memory for them.

Measured with `python benchmarks/backends.py`'s workloads, each run in a fresh process,
before and after, interleaved (median of 3 rounds; ratio to plain PyTorch): the DCGAN
step 90 -> 78 ms (1.27x -> 1.07x; with `batch_norm`'s copy of a cropped input, which the
transposed convolution's output is), ResNet-18 1.05 -> 0.97 s (1.12x -> 1.07x), LeNet-5
11.1 -> 10.7 ms (1.83x -> 1.69x, 5 rounds; its steps are noisy: alternating in one
process, 11.0 -> 10.0 ms).
"""

import torch
from keras.src.backend.torch import nn as torch_nn

from kerasdl.backend.patching import Patch


def transpose_spatial_inputs(inputs):
    """Keras's ``_transpose_spatial_inputs`` (channels-last to channels-first axes),
    contiguous in channels-last memory: no copy of a contiguous input."""
    memory_format = channels_last_memory(inputs.ndim)
    if memory_format is None:
        return PATCHES[0].original(inputs)
    axes = (0, inputs.ndim - 1, *range(1, inputs.ndim - 1))
    return torch.permute(inputs, axes).contiguous(memory_format=memory_format)


def channels_last_memory(ndim):
    """PyTorch's channels-last memory format for tensors of `ndim` axes (4 or 5), else
    None."""
    return torch_nn._get_channels_last_memory_format(ndim)


PATCHES = [Patch(torch_nn, "_transpose_spatial_inputs", transpose_spatial_inputs,
                 name="torch_layout")]
