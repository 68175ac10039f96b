"""1x1 convolutions with strides on PyTorch, as a stride-1 convolution of the sampled input.

PyTorch's CPU convolutions (oneDNN, in PyTorch 2.13) compute a 1x1 convolution with
strides by first copying the pixels it reads into a workspace. For the weight gradient
of channels-last input with fewer input channels than its kernel's channel block (8 on
AVX2, 16 on AVX-512), it writes past that workspace (uxlfoundation/oneDNN#6035): the
gradient comes out wrong, or the process crashes, or the threads' barrier is overwritten
and training hangs for ever. Keras hands PyTorch channels-last memory, so the projection
shortcut of a narrow ResNet meets it: ResNet-18 at kerasdl's test width (4 -> 8 channels,
stride 2) hung the test suite in that gradient on an AVX2 CPU, and 2 -> 8 channels gave a
weight gradient off by hundreds, silently.

On a CPU, its patch makes Keras's convolution take those pixels itself, a strided view of the input,
and convolve it with stride 1: the same outputs and gradients, as a 1x1 kernel reads only
the sampled pixels and needs no padding (``"same"`` and ``"valid"`` agree). PyTorch copies
the view once before the convolution, as oneDNN copied it into its workspace.

It also fixes a PyTorch failure under a mixed precision policy: a float16 or bfloat16
convolution with one output channel (an autoencoder's last layer) failed in its backward
pass on a CPU, as Keras hands PyTorch the kernel as a permuted view
("slow_conv2d: grad_weight must be contiguous"); the kernel is handed over in the
contiguous memory of PyTorch's layout instead.
"""

import torch
from keras.src.backend import standardize_data_format
from keras.src.backend.torch import core
from keras.src.backend.torch import nn as torch_nn

from kerasdl.backend.patching import Patch


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Keras's PyTorch ``conv``; with a 1x1 kernel and strides, the input's pixels at
    those strides convolved with stride 1."""
    spatial = len(kernel.shape) - 2
    strides = torch_nn.standardize_tuple(strides, spatial, "strides")
    if any(s > 1 for s in strides) and all(k == 1 for k in kernel.shape[:spatial]):
        inputs = torch_nn.convert_to_tensor(inputs)
        first = 1 if standardize_data_format(data_format) == "channels_last" else 2
        sample = [slice(None)] * inputs.ndim
        sample[first:first + spatial] = [slice(None, None, s) for s in strides]
        inputs, strides = inputs[tuple(sample)], 1
    if torch_nn.convert_to_tensor(kernel).dtype in (torch.float16, torch.bfloat16):
        # Keras hands PyTorch the kernel as a permuted view; PyTorch's CPU convolution of
        # half floats with one output channel then fails in its backward pass
        # ("slow_conv2d: grad_weight must be contiguous"): hand it contiguous memory
        spatial_axes = tuple(range(spatial))
        kernel = torch_nn.convert_to_tensor(kernel)
        order = (spatial + 1, spatial, *spatial_axes)  # Keras's: (out, in, *spatial)
        back = [order.index(axis) for axis in range(spatial + 2)]
        kernel = torch.permute(torch.permute(kernel, order).contiguous(), back)
    return PATCHES[0].original(inputs, kernel, strides, padding, data_format, dilation_rate)


def _on_a_cpu():
    # oneDNN is PyTorch's CPU library; CUDA's convolutions are not affected
    return torch.device(core.get_device()).type == "cpu"


PATCHES = [Patch(torch_nn, "conv", conv, applies=_on_a_cpu, name="torch_conv")]
