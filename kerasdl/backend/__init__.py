"""The per-backend code of kerasdl, all of it.

Keras gives one API for layers, models, losses and optimizers on TensorFlow, JAX and
PyTorch; where it gives none, kerasdl's code for each backend lives here and nowhere
else:

- `gradients`: the gradient step inside a custom `train_step` (GANs).
- `compat`: the private Keras/KerasTuner modules kerasdl relies on.
"""
