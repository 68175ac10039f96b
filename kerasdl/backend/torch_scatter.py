"""`keras.ops.scatter` on PyTorch in one vectorized call.

Keras 3.15's PyTorch backend scatters with a Python loop, one indexing per row of
`indices`. `keras.metrics.MeanIoU` (and every Keras metric built on
``metrics_utils.confusion_matrix``) scatters one row per pixel: a U-Net's training step on
32 images of 64x64 (131,072 pixels) took 2.3 s with the metric and 0.19 s without it
(filters 8, batch norm, 11 classes; 2-core CPU, 2026-12-03). The patch sums the same
values into the same cells with ``index_put_(accumulate=True)``, as Keras's TensorFlow
(``tf.scatter_nd``) and JAX (``.at[].add``) backends do.
"""

import torch
from keras.src.backend.torch import core as torch_core

from kerasdl.backend.patching import Patch


def scatter(indices, values, shape):
    """Keras's ``scatter``: `values` summed into zeros of `shape` at `indices`."""
    indices = torch_core.convert_to_tensor(indices)
    values = torch_core.convert_to_tensor(values)
    zeros = torch.zeros(shape, dtype=values.dtype, device=torch_core.get_device())
    index_length = indices.shape[-1]
    indices = torch.reshape(indices, [-1, index_length]).long()
    values = torch.reshape(values, [-1] + list(shape[index_length:]))
    return zeros.index_put_(tuple(indices.T), values, accumulate=True)


PATCHES = [Patch(torch_core, "scatter", scatter, name="torch_scatter")]
