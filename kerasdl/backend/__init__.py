"""The per-backend code of kerasdl, all of it.

Keras gives one API for layers, models, losses and optimizers on TensorFlow, JAX and
PyTorch; where it gives none, kerasdl's code for each backend lives here and nowhere
else:

- `gradients`: the gradient step inside a custom `train_step` (GANs).
- `compat`: the private Keras/KerasTuner modules kerasdl relies on.
- `patching`: replacing a Keras function, checked against the Keras it was written for,
  and reversible.
- the speed-ups of `use_fast_kernels`, each a module of patches: `torch_rnn`,
  `torch_layout`, `torch_conv`, `torch_scatter`, `batch_norm`, `jax_conv`, `jax_init`, `jax_attention`,
  `tf_data` (two of them fixes: `torch_conv`, `jax_attention`).
"""

import os

from kerasdl.backend.patching import Setting

ENVIRONMENT_SWITCH = "KERASDL_FAST_KERNELS"
_chosen = None  # what the program asked with use_fast_kernels(); None: not asked


def _modules(backend):
    """The modules of speed-ups for `backend`. Imported here, on demand, for start-up
    time and because each imports its own backend's library (TensorFlow, JAX or
    PyTorch)."""
    import importlib

    names = {"tensorflow": ("batch_norm", "tf_data"),
             "jax": ("jax_conv", "jax_init", "jax_attention"),
             "torch": ("batch_norm", "torch_rnn", "torch_layout", "torch_conv", "torch_scatter")}[backend]
    return [importlib.import_module(f"kerasdl.backend.{name}") for name in names]


def _patches():
    import keras  # here, not above: importing kerasdl must not fix Keras's backend

    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax", "torch"):
        return []
    patches = [p for module in _modules(backend) for p in module.PATCHES]
    if backend == "torch":
        patches.append(_FLUSH_DENORMAL)
    return patches


def _flush_denormal(enabled):
    import torch  # only on the PyTorch backend

    torch.set_flush_denormal(enabled)


# Denormal floats (below 1.2e-38) flushed to zero on PyTorch, as TensorFlow and XLA (JAX)
# do by default: backpropagation through a long sequence produces gradients that small,
# which a CPU handles about 100x slower (a GRU over 200 steps trained 7x slower than on
# TensorFlow until this). For training, values that small are zero.
_FLUSH_DENORMAL = Setting("torch.set_flush_denormal", lambda: _flush_denormal(True),
                          lambda: _flush_denormal(False))


def use_fast_kernels(enabled=True):
    """Turn kerasdl's speed-ups of the current Keras backend on or off, for the whole
    process; off puts Keras's own functions back exactly. Returns the names of those on.

    `kerasdl.build` and `kerasdl.load_model` turn them on unless the program has called
    this function or the environment sets ``KERASDL_FAST_KERNELS=0``; nothing else does
    (importing kerasdl, listing or describing its models change nothing in Keras). They
    change which kernel computes a layer, never the model: weights, configs and saved
    files are those of plain Keras, and outputs and gradients equal Keras's within float
    rounding (on JAX, initial weights too). Each is checked first against the Keras
    release and the function signature it was written for; where they differ it stays
    off with a warning naming it, and Keras's own function runs.

    - TensorFlow and PyTorch: `BatchNormalization` trains through the backend's fused
      kernel (`batch_norm`; ResNet-18's training step on PyTorch 986 -> 859 ms).
    - TensorFlow, on a CPU: the input pipelines Keras builds for `fit` run without
      tf.data's autotuning (`tf_data`), which on a 2-core CPU took a core from about half
      the epochs, at random (ResNet-18 1026 against 720 ms per step).
    - JAX, on a CPU (`jax_conv`, `jax_init`): Keras's compiled functions leave
      convolutions to XLA instead of YNNPACK (jaxlib's default, 2-4x slower on a CNN's
      training step: ResNet-18 1.84 -> 0.99 s); strided transposed convolutions run as
      stride-1 convolutions, one per output phase (XLA's CPU backend runs them about 10x
      slower than TensorFlow and PyTorch); weight initializers are compiled at XLA's
      optimization level 0, one sampler serving many shapes, and zeros and ones are
      filled on the host: ResNet-18 builds in 1.6 s instead of 3.9. And a fix:
      float16 attention runs in float32 (`jax_attention`), as XLA's CPU backend cannot
      compile the float16 products with float32 sums that JAX asks for under
      ``mixed_float16``.
    - PyTorch: LSTM and GRU run PyTorch's fused kernel on every device (`torch_rnn`);
      convolutions and pooling read channels-last data as it lies in memory instead of
      copying it to channels-first and back (`torch_layout`; the DCGAN step 90 -> 78 ms,
      ResNet-18 1.05 -> 0.97 s); `keras.ops.scatter` sums in one vectorized call
      instead of a Python loop per index (`torch_scatter`: `MeanIoU` over a U-Net's
      131,072 pixels per batch took 2.1 s of a 2.3 s training step); **denormal floats are flushed to zero**
      (``torch.set_flush_denormal(True)``, process-wide, as TensorFlow and XLA do by
      default: a GRU over 200 steps trained 7x slower without it); and, on a CPU, a fix
      rather than a speed-up: 1x1 convolutions with strides convolve the sampled input
      with stride 1 (`torch_conv`), as PyTorch's own computes a wrong weight gradient for
      narrow channels-last inputs, or crashes, or hangs (oneDNN#6035).

    All were measured on a 2-core x86-64 CPU (`benchmarks/`, docs/performance.md).
    """
    global _chosen
    _chosen = bool(enabled)
    return _switch(_chosen)


def install_defaults():
    """What `kerasdl.build` and `kerasdl.load_model` call: the speed-ups on, unless the
    program chose with `use_fast_kernels` or the environment sets KERASDL_FAST_KERNELS=0."""
    if _chosen is None and os.environ.get(ENVIRONMENT_SWITCH, "1") != "0":
        _switch(True)


def fast_kernels():
    """The names of the speed-ups on now."""
    return [p.name for p in _patches() if p.installed]


def _switch(enabled):
    for patch in _patches():
        if enabled:
            patch.install()
        else:
            patch.uninstall()
    return fast_kernels()
