"""LSTM and GRU on the PyTorch backend through PyTorch's own fused kernel, on any device.

Keras's PyTorch backend hands `LSTM` and `GRU` to ``torch._VF.lstm``/``gru`` (the kernel
behind ``torch.nn.LSTM``) only on CUDA and only without a mask; everywhere else it runs a
Python loop over the time steps, 13x slower than ``torch.nn.LSTM`` on a CPU. Nothing in
the fused kernel depends on the device, so its patches replace the backend's ``lstm`` and
``gru`` (what `keras.layers.LSTM`/`GRU` call before falling back to their step loop) with
versions that take it whenever the step loop is not needed:

- the standard activations (tanh, sigmoid), a bias, no `unroll`, GRU with
  ``reset_after=True`` (Keras's defaults);
- no mask, or a right-padded one (``mask_zero=True`` on text that
  `keras.layers.TextVectorization` pads at the end), run as packed sequences. As with
  Keras's cuDNN path, ``return_sequences`` then gives zeros at the padded steps (mask-aware
  layers never read them); every other output and the states are those of the loop;
- not while `torch.onnx` or `torch.compile` traces the model (Keras's rule, kept).

Recurrent dropout needs the loop and is left to it (Keras does not call the backend then);
so does ``use_cudnn=False`` on the layer, the way to ask for the loop. `Bidirectional`
wrappers run their two layers through these functions. Weights, configs and saved files
are those of plain Keras: nothing about the model changes, only which kernel runs it.
"""

import importlib

import keras.src.backend
import torch
from keras.src import activations, ops
from keras.src.backend.torch.core import convert_to_tensor

from kerasdl.backend.patching import Patch

# (not ``from keras.src.backend.torch import rnn``: that is the function of that name)
keras_rnn = importlib.import_module("keras.src.backend.torch.rnn")
_ORIGINAL = {"lstm": keras_rnn.lstm, "gru": keras_rnn.gru}


def lstm(inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
         activation, recurrent_activation, return_sequences=False, go_backwards=False,
         unroll=False, batch_first=True):
    lengths = _fusable(inputs, mask, activation, recurrent_activation, unroll, bias)
    if lengths is False or not batch_first:
        return _ORIGINAL["lstm"](
            inputs, initial_state_h, initial_state_c, mask, kernel, recurrent_kernel, bias,
            activation, recurrent_activation, return_sequences=return_sequences,
            go_backwards=go_backwards, unroll=unroll, batch_first=batch_first)
    params = keras_rnn.prepare_lstm_params(_tensor(kernel), _tensor(recurrent_kernel),
                                           _tensor(bias), inputs.device)
    return _run(torch._VF.lstm, inputs, [initial_state_h, initial_state_c], params,
                lengths, return_sequences, go_backwards, kernel)


def gru(inputs, initial_state, mask, kernel, recurrent_kernel, bias, activation,
        recurrent_activation, return_sequences=False, go_backwards=False, unroll=False,
        reset_after=True):
    lengths = _fusable(inputs, mask, activation, recurrent_activation, unroll, bias)
    if lengths is False or not reset_after:
        return _ORIGINAL["gru"](
            inputs, initial_state, mask, kernel, recurrent_kernel, bias, activation,
            recurrent_activation, return_sequences=return_sequences,
            go_backwards=go_backwards, unroll=unroll, reset_after=reset_after)
    params = keras_rnn.prepare_gru_params(_tensor(kernel), _tensor(recurrent_kernel),
                                          _tensor(bias), inputs.device)
    return _run(torch._VF.gru, inputs, [initial_state], params, lengths, return_sequences,
                go_backwards, kernel)


def _fusable(inputs, mask, activation, recurrent_activation, unroll, bias):
    """False where the loop is needed; else the sequence lengths (None: all full)."""
    if not (isinstance(inputs, torch.Tensor) and inputs.device.type in ("cpu", "cuda")):
        return False  # Keras's symbolic (meta-device) shape inference
    if (activation not in (activations.tanh, torch.tanh, ops.tanh)
            or recurrent_activation not in (activations.sigmoid, torch.sigmoid, ops.sigmoid)
            or unroll or bias is None or torch.jit.is_tracing()
            or torch.compiler.is_compiling()):
        return False
    if mask is None:
        return None
    mask = _tensor(mask).bool()
    lengths = mask.sum(dim=1)
    right_padded = torch.arange(mask.shape[1], device=mask.device) < lengths[:, None]
    if not torch.equal(mask, right_padded) or not bool(lengths.all()):
        return False  # a gap inside a sequence, or an empty one: the loop's semantics
    return None if bool((lengths == mask.shape[1]).all()) else lengths


def _run(kernel_fn, inputs, states, params, lengths, return_sequences, go_backwards, kernel):
    """One fused pass: ``kernel_fn`` is ``torch._VF.lstm`` or ``gru``; `states` the
    initial (batch, units) states. Returns Keras's ``(last_output, outputs, states)``."""
    dtype = _tensor(kernel).dtype
    inputs = _tensor(inputs).to(dtype)
    hidden = [_tensor(s).to(dtype).unsqueeze(0) for s in states]
    hidden = hidden[0] if len(hidden) == 1 else tuple(hidden)
    training = torch.is_grad_enabled()
    steps = inputs.shape[1]
    if lengths is None:
        if go_backwards:
            inputs = torch.flip(inputs, dims=[1])
        outputs, *final = kernel_fn(inputs, hidden, params, True, 1, 0.0, training, False, True)
    else:
        if go_backwards:  # the valid steps reversed, padding left where it is
            inputs = _reverse_within(inputs, lengths)
        packed = torch.nn.utils.rnn.pack_padded_sequence(
            inputs, lengths.cpu(), batch_first=True, enforce_sorted=False)
        order, unorder = packed.sorted_indices, packed.unsorted_indices
        hidden = (hidden.index_select(1, order) if torch.is_tensor(hidden)
                  else tuple(h.index_select(1, order) for h in hidden))
        data, *final = kernel_fn(packed.data, packed.batch_sizes, hidden, params, True, 1,
                                 0.0, training, False)
        outputs, _ = torch.nn.utils.rnn.pad_packed_sequence(
            torch.nn.utils.rnn.PackedSequence(data, packed.batch_sizes, order, unorder),
            batch_first=True, total_length=steps)
        final = [f.index_select(1, unorder) for f in final]
        if go_backwards:  # Keras's order: padding first, then the reversed valid steps
            outputs = torch.flip(_reverse_within(outputs, lengths), dims=[1])
    final = [f.squeeze(0) for f in final]
    last_output = final[0]
    if not return_sequences:
        outputs = last_output.unsqueeze(1)
    return last_output, outputs, final


def _reverse_within(x, lengths):
    """Each sequence's first `lengths` steps in reverse order; the rest unchanged."""
    steps = torch.arange(x.shape[1], device=x.device)
    index = torch.where(steps < lengths[:, None], lengths[:, None] - 1 - steps, steps)
    return x.gather(1, index[:, :, None].expand(-1, -1, x.shape[2]))


def _tensor(x):
    return None if x is None else convert_to_tensor(x)


# `keras.layers.LSTM` and `GRU` call the backend's functions through keras.src.backend
PATCHES = [Patch(keras.src.backend, "lstm", lstm, name="torch_rnn (LSTM)"),
           Patch(keras.src.backend, "gru", gru, name="torch_rnn (GRU)")]
