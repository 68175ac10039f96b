"""kerasdl's faster kernels (`kerasdl.backend.use_fast_kernels`) compute what Keras's
own do: LSTM and GRU through PyTorch's fused kernel (`torch_rnn`), convolutions and
pooling on PyTorch reading channels-last memory (`torch_layout`), strided transposed
convolutions on JAX by output phase and Keras's compiled functions without YNNPACK
convolutions (`jax_conv`), weight initializers on JAX compiled for a short compilation
and zeros and ones filled on the host (`jax_init`), batch normalization through
PyTorch's and TensorFlow's fused kernels (`batch_norm`; on PyTorch a cropped input
copied into its layout first); outputs, states, gradients and moving statistics;
Keras's input pipelines on TensorFlow run without tf.data's autotuning (`tf_data`); and a
1x1 convolution with strides and its weight gradient are right on every backend
(`torch_conv`, around a oneDNN bug on PyTorch); `keras.ops.scatter` on PyTorch sums
as Keras's loop does (`torch_scatter`)."""

import re

import keras
import numpy as np
import pytest
from sklearn.metrics import jaccard_score

import kerasdl
from kerasdl.backend import use_fast_kernels
from kerasdl.registry import get_spec

BACKEND = keras.backend.backend()
torch_only = pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's recurrent kernel")
LENGTHS = [7, 3, 5, 1, 7]
RIGHT_PADDED = np.arange(7)[None] < np.array(LENGTHS)[:, None]
WITH_A_GAP = RIGHT_PADDED.copy()
WITH_A_GAP[0, 2] = False


def _outputs_and_gradients(make_layer, use_cudnn, x, mask):
    import torch

    keras.utils.set_random_seed(1)
    layer = make_layer(use_cudnn)
    inputs = torch.tensor(x, requires_grad=True)
    outputs = layer(inputs, mask=None if mask is None else torch.tensor(mask))
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    # a weighted sum, so that every output unit reaches the gradients differently
    loss = sum((o * torch.linspace(0.1, 1.0, o.shape[-1])).sum() for o in outputs)
    gradients = torch.autograd.grad(loss, [inputs] + [w.value for w in layer.trainable_weights])
    return [t.detach().numpy() for t in outputs + list(gradients)]


@torch_only
@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("mask", [None, RIGHT_PADDED, WITH_A_GAP],
                         ids=["no-mask", "right-padded", "gap"])
@pytest.mark.parametrize("options", [
    dict(),
    dict(return_sequences=True, go_backwards=True, return_state=True),
    dict(bidirectional=True, return_sequences=True),
], ids=["last", "backwards-sequences-states", "bidirectional"])
def test_fused_kernel_equals_the_keras_loop(cell, mask, options, rng, monkeypatch):
    import torch

    from kerasdl.backend import torch_rnn

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


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's memory layouts")
@pytest.mark.parametrize("make_layer, shape, crop", [
    (lambda: keras.layers.Conv2D(4, 3, strides=2, padding="same"), (2, 7, 6, 3), False),
    (lambda: keras.layers.Conv2D(4, 3), (2, 7, 6, 3), True),
    (lambda: keras.layers.Conv2DTranspose(4, 4, strides=2, padding="same"), (2, 5, 5, 3), False),
    (lambda: keras.layers.AveragePooling2D(2), (2, 6, 6, 3), False),
    (lambda: keras.layers.MaxPooling2D(3, strides=2, padding="same"), (2, 7, 7, 3), False),
    (lambda: keras.layers.Conv3D(2, 2), (2, 4, 4, 4, 3), False),
], ids=["conv2d-same", "conv2d-cropped-input", "conv2d-transpose", "average-pooling",
        "max-pooling-same", "conv3d"])
def test_convolutions_and_pooling_read_channels_last_memory(make_layer, shape, crop, rng,
                                                             monkeypatch):
    import torch
    from keras.src.backend.torch import nn as torch_nn

    from kerasdl.backend import torch_layout

    kerasdl.build("lenet5")  # installs it
    assert torch_nn._transpose_spatial_inputs is torch_layout.transpose_spatial_inputs
    contiguous = torch.zeros(shape)
    assert torch_layout.transpose_spatial_inputs(contiguous).data_ptr() == contiguous.data_ptr()
    x = rng.standard_normal(shape).astype("float32")
    keras.utils.set_random_seed(0)
    layer = make_layer()
    # a cropped input is not contiguous: copied into channels-last memory
    call = (lambda inputs: layer(inputs[:, 1:])) if crop else layer
    in_shape = (shape[0], shape[1] - crop, *shape[2:])
    layer.build(in_shape)
    out_shape = layer.compute_output_shape(in_shape)
    weights = np.linspace(0.1, 1.0, np.prod(out_shape), dtype="float32").reshape(out_shape)
    variables = [w.value for w in layer.trainable_weights]
    ours = _outputs_and_gradients_of(call, x, weights, variables)
    monkeypatch.setattr(torch_nn, "_transpose_spatial_inputs", torch_layout.PATCHES[0].original)
    theirs = _outputs_and_gradients_of(call, x, weights, variables)
    for a, b in zip([ours[0], *ours[1]], [theirs[0], *theirs[1]], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def _counted(function, calls):
    def wrapper(*args, **kwargs):
        calls.append(function)
        return function(*args, **kwargs)
    return wrapper


jax_only = pytest.mark.skipif(BACKEND != "jax", reason="JAX's convolutions")


@jax_only
def test_fit_compiles_convolutions_without_ynnpack(rng):
    import jax
    from keras.src.backend.jax import trainer

    kerasdl.build("lenet5")  # installs it
    x = rng.random((16, 16, 16, 32)).astype("float32")
    k = rng.random((3, 3, 32, 32)).astype("float32")

    def kernel_gradient(x, k):
        return jax.grad(lambda k: (jax.lax.conv_general_dilated(
            x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")) ** 2).sum())(k)

    default = jax.jit(kernel_gradient).lower(x, k).compile()
    ours = trainer.jit(kernel_gradient).lower(x, k).compile()  # as fit compiles its step
    assert _ynnpack_convolutions(default.as_text()) > 0  # what jaxlib does on its own
    assert _ynnpack_convolutions(ours.as_text()) == 0
    np.testing.assert_allclose(ours(x, k), default(x, k), rtol=1e-5)


def _ynnpack_convolutions(hlo):
    """How many of a compiled program's YNNPACK fusions hold a convolution."""
    called = re.findall(r'calls=(%[\w.]+), backend_config=\{"fusion_config":'
                        r'\{"kind":"__ynn_fusion"', hlo)
    bodies = dict(re.findall(r"^(%[\w.]+) .*?\{\n(.*?)\n\}", hlo, re.S | re.M))
    return sum("convolution(" in bodies[name] for name in called)


@jax_only
def test_initializers_compile_quickly_and_draw_kerass_values(monkeypatch):
    import jax
    from keras.src.backend.jax import random as keras_random

    use_fast_kernels()
    quick = keras_random.uniform
    quick.compiled.clear_cache()
    # 429 and 500 values (with different Glorot bounds) are drawn by one sampler, the one
    # for 512; 90,000, above the largest such draw, by its own
    shapes = [(13, 11, 3), (20, 25), (300, 300)]
    initializer = keras.initializers.GlorotUniform(seed=3)
    drawn = [initializer(shape) for shape in shapes]
    assert quick.compiled._cache_size() == 2
    monkeypatch.setattr(keras_random, "uniform", quick.__wrapped__)
    for shape, values in zip(shapes, drawn):
        np.testing.assert_allclose(values, initializer(shape), rtol=1e-6, atol=1e-7)
    monkeypatch.undo()
    # a draw inside a traced function (a training step's) is Keras's own
    jax.jit(lambda key: keras.random.uniform(shapes[0], seed=key))(jax.random.key(0))
    assert quick.compiled._cache_size() == 2


@jax_only
def test_zeros_and_ones_are_filled_on_the_host(monkeypatch):
    import jax
    from keras.src.backend.jax import numpy as jax_numpy

    use_fast_kernels()
    for name in ("zeros", "ones"):  # Keras's way: a broadcast compiled for every shape
        monkeypatch.setattr(jax_numpy, name, None)
    for initializer, value in ((keras.initializers.Zeros(), 0), (keras.initializers.Ones(), 1)):
        for dtype in ("float32", "bfloat16", "int32"):
            filled = initializer((7, 9), dtype)
            assert isinstance(filled, jax.Array) and filled.shape == (7, 9)
            assert filled.dtype == dtype
            np.testing.assert_array_equal(np.asarray(filled, "float32"), value)


@jax_only
@pytest.mark.parametrize("shape,kernel,strides", [
    ((2, 7, 7, 3), (4, 4), (2, 2)),  # DCGAN's
    ((2, 5, 6, 3), (3, 4), (3, 2)),
    ((3, 7, 5), (4,), (2,)),
    ((2, 4, 5, 3, 2), (2, 2, 2), (2, 2, 2)),
])
def test_transposed_convolution_by_phases_equals_keras(shape, kernel, strides, rng):
    import jax

    from kerasdl.backend import jax_conv

    kerasdl.build("dcgan")  # installs it
    assert keras.src.backend.nn.conv_transpose is jax_conv.conv_transpose
    x = rng.standard_normal(shape).astype("float32")
    k = rng.standard_normal((*kernel, 4, shape[-1])).astype("float32")

    kerass = jax_conv.PATCHES[1].original

    def loss(conv):
        return lambda x, k: (conv(x, k, strides, "same") ** 2).sum()

    np.testing.assert_allclose(jax_conv.conv_transpose(x, k, strides, "same"),
                               kerass(x, k, strides, "same"), atol=1e-5)
    for ours, theirs in zip(jax.grad(loss(jax_conv.conv_transpose), (0, 1))(x, k),
                            jax.grad(loss(kerass), (0, 1))(x, k), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4)


@pytest.mark.skipif(BACKEND == "jax", reason="XLA fuses Keras's batch normalization")
@pytest.mark.parametrize("shape, options", [
    ((6, 5, 4, 3), {}),
    ((6, 3), dict(center=False, momentum=0.5)),
    ((6, 5, 3), dict(scale=False, epsilon=0.1)),
    ((6, 5, 3), dict(axis=1)),  # not the last axis: Keras's code
], ids=["images", "dense-no-center", "sequence-no-scale", "axis-1"])
def test_fused_batch_norm_equals_keras(shape, options, rng, monkeypatch):
    from kerasdl.backend import batch_norm

    kerasdl.build("lenet5")  # installs it
    assert keras.layers.BatchNormalization.call is batch_norm.call
    fused_calls = []
    module, name = _batch_norm_kernel()
    monkeypatch.setattr(module, name, _counted(getattr(module, name), fused_calls))
    x = rng.standard_normal(shape).astype("float32") * 3 + 1
    # a weighted sum of the outputs, so that each reaches the gradients differently
    weights = np.linspace(0.1, 1.0, x.size, dtype="float32").reshape(shape)

    def step(call):
        layer = keras.layers.BatchNormalization(**options)
        layer.build(shape)
        # gamma, beta, moving mean and variance away from their initial 1, 0, 0, 1
        layer.set_weights([w * 1.5 + 0.25 for w in layer.get_weights()])
        outputs, gradients = _outputs_and_gradients_of(
            lambda inputs: call(layer, inputs, training=True), x, weights,
            [w.value for w in layer.trainable_weights])
        return [outputs, *gradients] + [
            keras.ops.convert_to_numpy(w) for w in layer.non_trainable_weights]

    ours = step(batch_norm.call)
    assert bool(fused_calls) == ("axis" not in options)
    for a, b in zip(ours, step(batch_norm.PATCHES[0].original), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's memory layouts")
@pytest.mark.parametrize("memory", ["channels_last", "channels_first"])
def test_fused_batch_norm_copies_a_cropped_input_into_its_layout(memory, rng, monkeypatch):
    import torch

    from kerasdl.backend import batch_norm

    kerasdl.build("lenet5")  # installs it
    layouts = []
    kernel = torch.nn.functional.batch_norm
    monkeypatch.setattr(torch.nn.functional, "batch_norm", lambda x, *a, **k: (
        layouts.append((x.is_contiguous(), x.is_contiguous(memory_format=torch.channels_last))),
        kernel(x, *a, **k))[1])
    x = rng.standard_normal((4, 6, 5, 3)).astype("float32")
    weights = np.linspace(0.1, 1.0, 4 * 5 * 5 * 3, dtype="float32").reshape(4, 5, 5, 3)

    def cropped(inputs):  # as a transposed convolution's output, cropped to "same"
        if memory == "channels_first":
            inputs = inputs.movedim(-1, 1).contiguous().movedim(1, -1)
        return inputs[:, 1:]

    def step(call):
        layer = keras.layers.BatchNormalization()
        layer.build((4, 5, 5, 3))
        outputs, gradients = _outputs_and_gradients_of(
            lambda inputs: call(layer, cropped(inputs), training=True), x, weights,
            [w.value for w in layer.trainable_weights])
        return [outputs, *gradients, *(keras.ops.convert_to_numpy(w)
                                       for w in layer.non_trainable_weights)]

    ours = step(batch_norm.call)
    # the kernel reads the crop copied into the memory format of the uncropped tensor
    assert layouts == [(memory == "channels_first", memory == "channels_last")]
    for a, b in zip(ours, step(batch_norm.PATCHES[0].original), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("data_format, padding, strides", [
    ("channels_last", "same", (2, 2)), ("channels_last", "valid", (2, 3)),
    pytest.param("channels_first", "same", (3, 2), marks=pytest.mark.skipif(
        BACKEND == "tensorflow", reason="TensorFlow convolves channels-last only on a CPU")),
])
def test_strided_1x1_convolution_and_its_weight_gradient(data_format, padding, strides, rng,
                                                         monkeypatch):
    """Two input channels, fewer than oneDNN's channel block: PyTorch's own kernel gave a
    weight gradient off by hundreds here, or crashed or hung (`torch_conv`). On PyTorch
    the fix is installed and the convolution runs with stride 1 on the sampled input,
    whatever this CPU's oneDNN does with strides."""
    from kerasdl.backend.gradients import input_gradients

    use_fast_kernels()
    strides_run = []
    if BACKEND == "torch":
        from keras.src.backend.torch import nn as torch_nn

        from kerasdl.backend import torch_conv

        assert torch_nn.conv is torch_conv.conv
        kerass = torch_conv.PATCHES[0].original
        monkeypatch.setattr(torch_conv.PATCHES[0], "original", lambda *args: (
            strides_run.append(args[2]), kerass(*args))[1])
    x = rng.standard_normal((16, 8, 8, 2)).astype("float32")
    kernel = rng.standard_normal((1, 1, 2, 8)).astype("float32")
    sampled = x[:, ::strides[0], ::strides[1]]
    expected = sampled @ kernel[0, 0]
    inputs = x if data_format == "channels_last" else x.transpose(0, 3, 1, 2)

    def conv(k):
        return keras.ops.conv(inputs, k, strides, padding, data_format)

    outputs = keras.ops.convert_to_numpy(conv(kernel))
    if data_format == "channels_first":
        outputs = outputs.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-5)
    gradient = input_gradients(lambda k: keras.ops.square(conv(k)),
                               keras.ops.convert_to_tensor(kernel))
    # of sum(y ** 2), y = sampled @ k: 2 * sampled^T y
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gradient)[0, 0],
                               2 * np.einsum("nhwi,nhwo->io", sampled, expected), rtol=1e-4)
    assert strides_run == ([1, 1] if BACKEND == "torch" else [])  # forward, then gradient


@pytest.mark.skipif(BACKEND != "tensorflow", reason="a compiled step's batch of any size")
def test_fused_batch_norm_of_a_single_example():
    import tensorflow as tf

    kerasdl.build("lenet5")  # installs it
    layer = keras.layers.BatchNormalization(momentum=0.5)
    layer.build((None, 3))
    step = tf.function(lambda x: layer(x, training=True),
                       input_signature=[tf.TensorSpec([None, 3])])
    outputs = step(tf.constant([[1.0, 2.0, 3.0]]))
    # as Keras's own: a variance of 0 over one value, so x - mean = 0 and outputs = beta
    np.testing.assert_allclose(outputs, [[0.0, 0.0, 0.0]], atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean, [0.5, 1.0, 1.5])
    np.testing.assert_allclose(layer.moving_variance, [0.5, 0.5, 0.5])


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.data feeds fit on TensorFlow only")
def test_fit_pipelines_run_without_the_autotuning_thread(rng):
    """tf.data's autotuning runs its model of the pipeline on a thread of its own, the one
    that took a core from the training step: Keras's pipelines for arrays and PyDatasets
    start one thread fewer with `tf_data`; a dataset handed to fit keeps its options."""
    import os

    import tensorflow as tf
    from keras.src.trainers.data_adapters import get_data_adapter

    from kerasdl.training import Batches

    x, y = rng.normal(size=(4000, 3)).astype("float32"), np.arange(4000) % 2

    def threads_started(feed):
        dataset = get_data_adapter(*feed, batch_size=4).get_tf_dataset()
        before = len(os.listdir("/proc/self/task"))
        batches = iter(dataset)
        for _ in range(200):
            next(batches)
        return len(os.listdir("/proc/self/task")) - before

    feeds = {"arrays": (x, y), "a PyDataset": (Batches(x, y, 4), None)}
    started = {}
    for enabled in (False, True, False, True):  # the first of each warms the thread pools
        use_fast_kernels(enabled)
        started[enabled] = {name: threads_started(feed) for name, feed in feeds.items()}
    assert all(started[True][name] < started[False][name] for name in feeds), started
    users = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)
    assert get_data_adapter(users).get_tf_dataset().options().autotune.enabled is None


def _batch_norm_kernel():
    if BACKEND == "torch":
        import torch

        return torch.nn.functional, "batch_norm"
    import tensorflow as tf

    return tf.compat.v1.nn, "fused_batch_norm"


def _outputs_and_gradients_of(fn, x, weights, variables):
    """``fn(x)`` and the gradients of ``sum(fn(x) * weights)`` with respect to `x` and
    `variables`, as NumPy arrays."""
    if BACKEND == "torch":
        import torch

        inputs = torch.tensor(x, requires_grad=True)
        outputs = fn(inputs)
        gradients = torch.autograd.grad((outputs * torch.tensor(weights)).sum(),
                                        [inputs, *variables])
    else:
        import tensorflow as tf

        inputs = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            outputs = fn(inputs)
            loss = tf.reduce_sum(outputs * weights)
        gradients = tape.gradient(loss, [inputs, *variables])
    return keras.ops.convert_to_numpy(outputs), [keras.ops.convert_to_numpy(g)
                                                  for g in gradients]


@pytest.mark.skipif(BACKEND != "torch", reason="PyTorch's scatter")
def test_scatter_sums_as_kerass_loop_and_mean_iou_uses_it(rng, monkeypatch):
    from keras.src.backend.torch import core as torch_core

    from kerasdl.backend import torch_scatter

    kerasdl.build("mlp", **get_spec("mlp").test_kwargs)  # installs it
    assert torch_core.scatter is torch_scatter.scatter
    keras_loop = torch_scatter.PATCHES[0].original
    # repeated indices add up; rows of values; integer counts
    for indices, values, shape in [
        (rng.integers(0, 4, (60, 2)), rng.random(60).astype("float32"), (4, 4)),
        (rng.integers(0, 3, (9, 1)), rng.random((9, 2)).astype("float32"), (3, 2)),
        (rng.integers(0, 5, (40, 2)), np.ones(40, "int32"), (5, 5)),
    ]:
        ours, theirs = torch_scatter.scatter(indices, values, shape), keras_loop(indices, values,
                                                                                 shape)
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    calls = []
    monkeypatch.setattr(torch_core, "scatter", _counted(torch_scatter.scatter, calls))
    true, pred = rng.integers(0, 3, 500), rng.integers(0, 3, 500)
    iou = keras.metrics.MeanIoU(3)
    iou.update_state(true, pred)
    assert calls and float(iou.result()) == pytest.approx(
        jaccard_score(true, pred, average="macro"), abs=1e-6)
