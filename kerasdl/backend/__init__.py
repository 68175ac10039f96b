"""The per-backend code of kerasdl, all of it.

Keras gives one API for layers, models, losses and optimizers on TensorFlow, JAX and
PyTorch; where it gives none, kerasdl's code for each backend lives here and nowhere
else:

- `gradients`: the gradient step inside a custom `train_step` (GANs).
- `compat`: the private Keras/KerasTuner modules kerasdl relies on.
- `torch_rnn`: LSTM and GRU through PyTorch's fused kernel on any device (Keras takes
  it only on CUDA), installed by `use_fast_kernels`.
"""


def use_fast_kernels():
    """Route Keras's layers to the fastest kernel their backend has where Keras itself
    does not (today: LSTM and GRU on PyTorch, see `torch_rnn`). Called by
    `kerasdl.build` and `kerasdl.load_model`; models and files are unchanged."""
    import keras

    if keras.backend.backend() == "torch":
        from kerasdl.backend import torch_rnn

        torch_rnn.install()
