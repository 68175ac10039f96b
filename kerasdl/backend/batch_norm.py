"""Batch normalization on the PyTorch and TensorFlow backends through their fused kernels.

Keras's `BatchNormalization` computes a training step's statistics and normalization as a
chain of elementwise operations and reductions, each a pass over the activations. On a
CPU, one layer over 64x32x32x64 activations took, forward and backward, 27 ms on PyTorch
against 6 ms for ``torch.nn.functional.batch_norm``, and 15.5 ms on TensorFlow against
5.6 ms for its ``FusedBatchNormV3``; a ResNet-18 has twenty. Its patch replaces the
layer's ``call`` with one that hands a training step to the backend's kernel when nothing
needs Keras's own code: float32, normalization over the last axis, no mask, no batch
renormalization, no synchronized statistics (``synchronized=True`` averages them over the
replicas of a `tf.distribute` strategy, which the kernel does not), more than one value
per channel. The kernels return the batch's mean and
unbiased variance, from which the moving statistics are updated as Keras updates them
(biased variance, Keras's momentum); on PyTorch, an input strided in neither memory layout
(a cropped transposed convolution's output) is first copied into the layout its gradient
will come in, as the kernel's backward pass is about 10x slower on it. Inference, and
every other case, runs Keras's code. Outputs, gradients and moving statistics equal
Keras's within float rounding (`tests/test_backend_kernels.py`); weights, configs and
saved files are those of plain Keras. (JAX needs none of this: XLA fuses Keras's chain
into a few loops.)
"""

import math

import keras
from keras.src.layers import BatchNormalization

from kerasdl.backend.patching import Patch


def call(self, inputs, training=None, mask=None):
    """`keras.layers.BatchNormalization.call`, a training step through the fused kernel
    where it computes what Keras would."""
    shape = tuple(inputs.shape)  # None where a compiled step's batch is any size
    if not (training and self.trainable and mask is None and not self.renorm
            and not self.synchronized and keras.backend.standardize_dtype(inputs.dtype) == "float32"
            and self.compute_dtype == "float32" and self.axis in (-1, len(shape) - 1)
            and isinstance(shape[-1], int) and shape[-1] > 0
            and (None in shape or math.prod(shape) > shape[-1])):
        return PATCHES[0].original(self, inputs, training=training, mask=mask)
    kernel = _torch if keras.backend.backend() == "torch" else _tensorflow
    outputs, mean, variance = kernel(inputs, self.gamma.value if self.scale else None,
                                     self.beta.value if self.center else None, self.epsilon)
    self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
    self.moving_variance.assign(self.moving_variance * self.momentum
                                + variance * (1.0 - self.momentum))
    return outputs


def _torch(inputs, gamma, beta, epsilon):
    """``torch.nn.functional.batch_norm`` over all axes but the last: the outputs, the
    batch's mean and its biased variance."""
    import torch  # this module serves TensorFlow too: each kernel imports its own library

    from kerasdl.backend.torch_layout import channels_last_memory  # imports torch

    channels = inputs.shape[-1]
    # the kernel writes the batch's mean and unbiased variance here (momentum 1)
    mean = torch.zeros(channels, device=inputs.device)
    variance = torch.ones(channels, device=inputs.device)
    # (batch, ..., channels) viewed as (batch, channels, ...): channels-last memory,
    # which the kernel reads as it is
    x = torch.movedim(inputs, -1, 1)
    channels_last = channels_last_memory(x.ndim)
    if channels_last and not (x.is_contiguous() or x.is_contiguous(memory_format=channels_last)):
        # e.g. a cropped transposed convolution's output: on a CPU, the kernel's backward
        # pass over such strides is about 10x slower than a copy into the layout the
        # gradient comes in (the uncropped output's: channels-last if the channels are
        # adjacent in memory)
        x = x.contiguous(memory_format=channels_last if x.stride(1) == 1
                         else torch.contiguous_format)
    outputs = torch.nn.functional.batch_norm(
        x, mean, variance, weight=gamma, bias=beta, training=True, momentum=1.0,
        eps=epsilon)
    count = inputs.numel() // channels
    return torch.movedim(outputs, 1, -1), mean, variance * ((count - 1) / count)


def _tensorflow(inputs, gamma, beta, epsilon):
    """TensorFlow's ``FusedBatchNormV3`` over all axes but the last: the outputs, the
    batch's mean and its biased variance."""
    import tensorflow as tf

    channels = inputs.shape[-1]
    outputs, mean, variance = tf.compat.v1.nn.fused_batch_norm(
        tf.reshape(inputs, [-1, 1, 1, channels]),  # NHWC, reduced over N, H and W
        tf.ones([channels]) if gamma is None else gamma,
        tf.zeros([channels]) if beta is None else beta, epsilon=epsilon, is_training=True)
    count = tf.cast(tf.size(inputs) // channels, variance.dtype)
    return tf.reshape(outputs, tf.shape(inputs)), mean, variance * (count - 1) / count


PATCHES = [Patch(BatchNormalization, "call", call, name="batch_norm")]
