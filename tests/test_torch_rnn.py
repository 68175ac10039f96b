"""LSTM and GRU through PyTorch's fused kernel (kerasdl.backend.torch_rnn): the same
outputs, states and gradients as Keras's own step loop. PyTorch backend only."""

import keras
import numpy as np
import pytest

import kerasdl

if keras.backend.backend() != "torch":
    pytest.skip("the fused recurrent kernel is the PyTorch backend's", allow_module_level=True)

import torch  # noqa: E402

from kerasdl.backend import torch_rnn  # noqa: E402

LENGTHS = [7, 3, 5, 1, 7]
RIGHT_PADDED = np.arange(7)[None] < np.array(LENGTHS)[:, None]
WITH_A_GAP = RIGHT_PADDED.copy()
WITH_A_GAP[0, 2] = False


def _outputs_and_gradients(make_layer, use_cudnn, x, mask):
    keras.utils.set_random_seed(1)
    layer = make_layer(use_cudnn)
    inputs = torch.tensor(x, requires_grad=True)
    outputs = layer(inputs, mask=None if mask is None else torch.tensor(mask))
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    # a weighted sum, so that every output unit reaches the gradients differently
    loss = sum((o * torch.linspace(0.1, 1.0, o.shape[-1])).sum() for o in outputs)
    gradients = torch.autograd.grad(loss, [inputs] + [w.value for w in layer.trainable_weights])
    return [t.detach().numpy() for t in outputs + list(gradients)]


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("mask", [None, RIGHT_PADDED, WITH_A_GAP],
                         ids=["no-mask", "right-padded", "gap"])
@pytest.mark.parametrize("options", [
    dict(),
    dict(return_sequences=True, go_backwards=True, return_state=True),
    dict(bidirectional=True, return_sequences=True),
], ids=["last", "backwards-sequences-states", "bidirectional"])
def test_fused_kernel_equals_the_keras_loop(cell, mask, options, rng, monkeypatch):
    kerasdl.build("lstm", units=(4,))  # kerasdl.build installs the fused path
    assert keras.src.backend.lstm is torch_rnn.lstm and keras.src.backend.gru is torch_rnn.gru
    fused_calls = []
    for name in ("lstm", "gru"):
        monkeypatch.setattr(torch._VF, name, _counted(getattr(torch._VF, name), fused_calls))
    options = dict(options)
    bidirectional = options.pop("bidirectional", False)
    # as Bidirectional sets it: masked steps of returned sequences are zeros
    options["zero_output_for_mask"] = options.get("return_sequences", False)

    def make_layer(use_cudnn):
        layer = getattr(keras.layers, cell)(4, use_cudnn=use_cudnn, **options)
        return keras.layers.Bidirectional(layer) if bidirectional else layer

    x = rng.standard_normal((5, 7, 3)).astype("float32")
    fused = _outputs_and_gradients(make_layer, "auto", x, mask)
    assert bool(fused_calls) == (mask is not WITH_A_GAP)  # a gap needs the step loop
    fused_calls.clear()
    loop = _outputs_and_gradients(make_layer, False, x, mask)
    assert not fused_calls
    for a, b in zip(fused, loop, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def _counted(function, calls):
    def wrapper(*args):
        calls.append(function)
        return function(*args)
    return wrapper
