"""The per-backend code of kerasdl, all of it.

Keras gives one API for layers, models, losses and optimizers on TensorFlow, JAX and
PyTorch; where it gives none, kerasdl's code for each backend lives here and nowhere
else:

- `gradients`: the gradient step inside a custom `train_step` (GANs).
- `compat`: the private Keras/KerasTuner modules kerasdl relies on.
- `torch_conv`: 1x1 convolutions with strides on PyTorch, around a oneDNN bug that gives
  wrong weight gradients, crashes or hangs (installed by `use_fast_kernels`).
- installed by `use_fast_kernels`, faster kernels where Keras leaves speed on the table:
  `torch_rnn` (LSTM and GRU through PyTorch's fused kernel on any device; Keras takes it
  only on CUDA), `torch_layout` (convolutions and pooling on PyTorch without copies
  between memory layouts), `batch_norm` (batch normalization through PyTorch's and
  TensorFlow's fused kernels), `jax_conv` (convolutions on JAX compiled without YNNPACK
  on a CPU, strided transposed convolutions as stride-1 convolutions), `jax_init`
  (weight initializers on JAX compiled for a short compilation, zeros and ones made on
  the host), `tf_data` (Keras's input pipelines on TensorFlow without tf.data's
  autotuning).
"""


def use_fast_kernels():
    """Make the backend as fast as it can be where Keras leaves speed on the table;
    models and saved files are those of plain Keras (on JAX, initial weights equal
    Keras's within float rounding). Called by `kerasdl.build` and `kerasdl.load_model`.

    - TensorFlow and PyTorch: `BatchNormalization` trains through the backend's fused
      kernel (`batch_norm`; ResNet-18's training step on PyTorch 986 -> 859 ms).
    - TensorFlow: the input pipelines Keras builds for `fit` run without tf.data's
      autotuning (`tf_data`), which on a 2-core CPU took a core from about half the
      epochs, at random (ResNet-18 1026 against 720 ms per step).
    - JAX (`jax_conv`): on a CPU, Keras's compiled functions leave convolutions to XLA
      instead of YNNPACK (jaxlib's default, 2-4x slower on a CNN's training step:
      ResNet-18 1.84 -> 0.99 s); strided transposed convolutions run as stride-1
      convolutions, one per output phase (XLA's CPU backend runs them about 10x slower
      than TensorFlow and PyTorch). Weight initializers are compiled at XLA's
      optimization level 0, one sampler serving many shapes, and zeros and ones are
      filled on the host (`jax_init`): ResNet-18 builds in 1.6 s instead of 3.9.
    - PyTorch: LSTM and GRU run PyTorch's fused kernel on every device (`torch_rnn`);
      convolutions and pooling read channels-last data as it lies in memory instead of
      copying it to channels-first and back (`torch_layout`; the DCGAN step 90 -> 78 ms,
      ResNet-18 1.05 -> 0.97 s);
      denormal floats are flushed to zero (``torch.set_flush_denormal``), as TensorFlow
      and XLA (JAX) do by default: backpropagation through a long sequence produces
      gradients below 1e-38, which the CPU handles about 100x slower (a GRU over 200
      steps trained 7x slower than on TensorFlow until this). Values that small are
      zero for training. Also a fix, not a speed-up: 1x1 convolutions with strides
      convolve the sampled input with stride 1 (`torch_conv`): PyTorch's own computes a
      wrong weight gradient for narrow channels-last inputs, or crashes, or hangs.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        from kerasdl.backend import jax_conv, jax_init

        jax_conv.install()
        jax_init.install()
        return
    from kerasdl.backend import batch_norm

    batch_norm.install()
    if backend == "tensorflow":
        from kerasdl.backend import tf_data

        tf_data.install()
    if backend == "torch":
        import torch

        from kerasdl.backend import torch_conv, torch_layout, torch_rnn

        torch.set_flush_denormal(True)
        torch_rnn.install()
        torch_layout.install()
        torch_conv.install()
