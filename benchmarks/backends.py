"""kerasdl on TensorFlow, JAX and PyTorch against the same networks in plain PyTorch
(and, for LeNet-5 and the LSTM, in plain JAX: Flax + Optax, jit).

    python benchmarks/backends.py [--workloads lenet5 lstm ...] [--rounds 3] [--compile]
                                  [--jit] [--plain-keras] [--steps-per-execution N]
                                  [--output FILE]
    python benchmarks/backends.py --tuner [--rounds 3]

The workloads: LeNet-5, the recurrent nets, a one-block Transformer, ResNet-18 and DCGAN on
random data of their shapes; U-Net and YOLO as `kerasdl train` builds them, on the
``mnist_scenes`` masks and boxes (YOLO's per-cell targets made once, outside the timing).

Every (implementation, backend) runs in a fresh process, the implementations interleaved
round after round; each run trains one warm-up epoch (reported as compile time) and
`--epochs` timed epochs of `--steps` steps on data in memory, with Adam and float32. A
ratio is taken within its round, to plain PyTorch's time in that round; the table gives
medians over rounds. Parameter counts are checked equal across implementations (where a
layer is defined differently, the expected difference is stated). The table goes to
stdout and to ``benchmarks/results/backends.md``.

Levers (extra columns): ``--jit`` also runs kerasdl with Keras's ``jit_compile=True`` on
TensorFlow (XLA, which Keras leaves off on a CPU) and on PyTorch (`torch.compile`);
``--plain-keras`` runs LeNet-5 written directly in Keras (no kerasdl builder) on every
backend, to show what the builder costs; ``--steps-per-execution N`` runs kerasdl on
TensorFlow and JAX with N steps per call of the compiled training function.

``--tuner`` times a KerasTuner search instead: 8 trials of 3 epochs of an MLP on the 8x8
digits (`kerasdl.tuning.search`, random search), per backend; seconds per trial, model
building and compilation included, which is what a search pays for.

Plain PyTorch runs with denormals flushed to zero, as TensorFlow, XLA and kerasdl on
PyTorch do; ``KEEP_DENORMALS=1`` runs it with PyTorch's default instead.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from kerasdl.benchmark import (BACKENDS, compare, peak_rss_mb, run_worker,  # noqa: E402
                               summary, time_fit, worker)

# name: (kerasdl model, builder arguments, data, task, batch size, what the peers
# count differently); data is (kind, shape) made by `_data`.
WORKLOADS = {
    "lenet5": ("lenet5", dict(input_shape=(28, 28, 1), num_classes=10),
               ("images", (28, 28, 1), 10), "classification", 128, {}),
    "lstm": ("lstm", dict(input_shape=(200, 8), units=(128,), num_classes=1),
             ("series", (200, 8)), "regression", 64,
             {"pytorch": (512, "PyTorch's LSTM has two bias vectors (4 x 128 more)")}),
    "gru": ("gru", dict(input_shape=(200, 8), units=(128,), num_classes=1),
            ("series", (200, 8)), "regression", 64, {}),
    "bilstm": ("bilstm", dict(input_shape=(200, 8), units=(128,), num_classes=1),
               ("series", (200, 8)), "regression", 64,
               {"pytorch": (1024, "PyTorch's LSTM has two bias vectors (2 x 4 x 128 more)")}),
    "transformer": ("transformer_classifier",
                    dict(input_shape=(200,), vocab_size=20_000, d_model=32, num_heads=2,
                         ff_dim=32, num_layers=1, num_classes=2),
                    ("tokens", (200,), 20_000), "classification", 32, {}),
    "resnet18": ("resnet18", dict(input_shape=(32, 32, 3), num_classes=10, stem="small"),
                 ("images", (32, 32, 3), 10), "classification", 64, {}),
    "dcgan": ("dcgan", dict(input_shape=(28, 28, 1)), ("images", (28, 28, 1), 10),
              "adversarial", 64, {}),
    # `kerasdl train unet` and `kerasdl train yolo`'s networks on mnist_scenes
    "unet": ("unet", dict(input_shape=(64, 64, 1), num_classes=11, filters=16,
                          batch_norm=True, dropout=0.0),
             ("scenes", "masks"), "segmentation", 32, {}),
    "yolo": ("yolo", dict(input_shape=(64, 64, 1), num_classes=10, grid=8,
                          width_multiplier=1 / 8, head="conv", dropout=0.0),
             ("scenes", "boxes"), "detection", 32, {}),
}
FLAX = ("lenet5", "lstm")


def _data(kind, shape, classes=None, *, n, seed=0):
    rng = np.random.default_rng(seed)
    if kind == "scenes":  # `shape`: the target, masks or YOLO's (N, 8, 8, 15) grid targets
        from kerasdl import datasets, detection

        x, y = datasets.load("mnist_scenes", "train", target=shape)
        if shape == "boxes":
            y = detection.encode(y[:n], image_size=(64, 64), grid=(8, 8), num_classes=10)
        return x[:n], y[:n]
    if kind == "images":
        return rng.random((n, *shape), dtype="float32"), rng.integers(0, classes, n)
    if kind == "series":
        x = rng.standard_normal((n, *shape)).astype("float32")
        return x, x[:, :, 0].mean(axis=1, keepdims=True)
    tokens = rng.integers(1, classes, (n, *shape)).astype("int32")
    tokens[::2, shape[0] // 2:] = 0  # half the sequences padded to half length
    return tokens, rng.integers(0, 2, n)


def run_kerasdl(workload, steps, epochs, jit_compile=None, steps_per_execution=1,
                plain=False):
    import keras

    import kerasdl

    model_name, kwargs, data, task, batch, _ = WORKLOADS[workload]
    x, y = _data(*data, n=batch * steps)
    if task == "adversarial":
        x, y = 2 * x - 1, None
    keras.utils.set_random_seed(0)
    model = PLAIN_KERAS[workload]() if plain else kerasdl.build(model_name, **kwargs)
    return time_fit(model, x, y, task=task, batch_size=batch, steps=steps, epochs=epochs,
                    jit_compile=jit_compile, steps_per_execution=steps_per_execution)


def _plain_keras_lenet5():
    """LeNet-5 as one would write it in Keras directly, layer for layer kerasdl's."""
    import keras
    from keras import layers

    return keras.Sequential([
        keras.Input((28, 28, 1)), layers.ZeroPadding2D(2),
        layers.Conv2D(6, 5, activation="tanh"), layers.AveragePooling2D(2),
        layers.Conv2D(16, 5, activation="tanh"), layers.AveragePooling2D(2), layers.Flatten(),
        layers.Dense(120, activation="tanh"), layers.Dense(84, activation="tanh"),
        layers.Dense(10, activation="softmax")])


PLAIN_KERAS = {"lenet5": _plain_keras_lenet5}


# ---- the same networks in plain PyTorch ---------------------------------------------


def _torch_network(workload):
    import torch
    from torch import nn

    if workload == "lenet5":
        return nn.Sequential(
            nn.ZeroPad2d(2), nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
            nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
    if workload in ("lstm", "gru", "bilstm"):
        cell = nn.GRU if workload == "gru" else nn.LSTM
        bidirectional = workload == "bilstm"

        class Recurrent(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = cell(8, 128, batch_first=True, bidirectional=bidirectional)
                self.out = nn.Linear(256 if bidirectional else 128, 1)

            def forward(self, x):
                _, state = self.rnn(x)
                h = state[0] if isinstance(state, tuple) else state
                return self.out(torch.cat(list(h), dim=-1))
        return Recurrent()
    if workload == "transformer":
        class Transformer(nn.Module):
            def __init__(self, vocab=20_000, d=32, length=200):
                super().__init__()
                self.embed = nn.Embedding(vocab, d)
                position = torch.arange(length)[:, None]
                rates = 10_000 ** (-torch.arange(0, d, 2) / d)
                table = torch.stack([torch.sin(position * rates), torch.cos(position * rates)],
                                    dim=-1).reshape(length, d)
                self.register_buffer("table", table)
                self.drop = nn.Dropout(0.1)
                self.block = nn.TransformerEncoderLayer(d, 2, 32, 0.1, batch_first=True)
                self.out = nn.Linear(d, 2)
                self.scale = d ** 0.5

            def forward(self, tokens):
                keep = tokens != 0
                x = self.drop(self.embed(tokens) * self.scale + self.table[: tokens.shape[1]])
                x = self.block(x, src_key_padding_mask=~keep)
                x = (x * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)
                return self.out(self.drop(x))
        return Transformer()
    if workload == "resnet18":
        def conv_bn(cin, cout, k, stride=1):
            return [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]

        class Block(nn.Module):
            def __init__(self, cin, cout, stride):
                super().__init__()
                self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride), nn.ReLU(),
                                          *conv_bn(cout, cout, 3))
                self.shortcut = (nn.Sequential(*conv_bn(cin, cout, 1, stride))
                                 if stride != 1 or cin != cout else nn.Identity())

            def forward(self, x):
                return torch.relu(self.body(x) + self.shortcut(x))
        stages, cin = [], 64
        for i, cout in enumerate((64, 128, 256, 512)):
            stages += [Block(cin, cout, 1 if i == 0 else 2), Block(cout, cout, 1)]
            cin = cout
        return nn.Sequential(*conv_bn(3, 64, 3), nn.ReLU(), *stages,
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))
    if workload == "dcgan":
        generator = nn.Sequential(
            nn.Linear(100, 7 * 7 * 128, bias=False), nn.BatchNorm1d(7 * 7 * 128), nn.ReLU(),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
        discriminator = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(7 * 7 * 128, 1))
        return nn.ModuleDict({"generator": generator, "discriminator": discriminator})
    if workload == "unet":
        return _torch_unet(nn)
    if workload == "yolo":
        return _torch_yolo(nn)
    raise ValueError(f"no PyTorch network for {workload!r}")


def _torch_unet(nn, filters=16, depth=4, classes=11):
    """kerasdl's unet as its recipe builds it: conv-BN-ReLU twice per level, 2x2 max
    pooling; 2x2 up-convolutions (ReLU), the skip concatenated first, conv-BN-ReLU twice;
    1x1 convolution to the classes (the softmax is in the loss)."""
    import torch

    def twice(cin, cout):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout, eps=1.001e-5), nn.ReLU(),
                             nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                             nn.BatchNorm2d(cout, eps=1.001e-5), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [filters * 2 ** level for level in range(depth + 1)]
            self.down = nn.ModuleList(twice(a, b) for a, b in zip([1] + widths, widths))
            self.upconv = nn.ModuleList(nn.ConvTranspose2d(b, a, 2, stride=2)
                                        for a, b in zip(widths, widths[1:]))
            self.up = nn.ModuleList(twice(2 * a, a) for a in widths[:-1])
            self.out = nn.Conv2d(filters, classes, 1)

        def forward(self, x):
            skips = []
            for level, block in enumerate(self.down):
                x = block(x)
                if level < depth:
                    skips.append(x)
                    x = torch.max_pool2d(x, 2)
            for level in reversed(range(depth)):
                x = torch.relu(self.upconv[level](x))
                x = self.up[level](torch.cat([skips[level], x], dim=1))
            return self.out(x)
    return UNet()


def _torch_yolo(nn):
    """kerasdl's yolo as its recipe builds it on 64x64 scenes (an 8x8 grid: the paper's
    first three halvings kept, an eighth of its filters, a 1x1 convolutional head), its
    output laid out as the Grid layer's (N, 8, 8, 5B + C)."""
    layers, cin = [], 1
    for layer in [(7, 8, 2), "pool", (3, 24, 1), "pool",
                  (1, 16, 1), (3, 32, 1), (1, 32, 1), (3, 64, 1), *[(1, 32, 1), (3, 64, 1)] * 4,
                  (1, 64, 1), (3, 128, 1), *[(1, 64, 1), (3, 128, 1)] * 2, *[(3, 128, 1)] * 4]:
        if layer == "pool":
            layers.append(nn.MaxPool2d(2))
            continue
        kernel, filters, strides = layer
        # Keras's "same" padding at stride 2 pads 2 before and 3 after a 7x7 kernel on even
        # sizes; PyTorch's 3 on both sides gives the same output size (32x32 from 64x64).
        layers += [nn.Conv2d(cin, filters, kernel, strides, kernel // 2), nn.LeakyReLU(0.1)]
        cin = filters
    layers += [nn.Conv2d(cin, 20, 1)]
    return nn.Sequential(*layers)


def _torch_yolo_loss(output, target, boxes_per_cell=2):
    """`kerasdl.detection.YoloLoss` in PyTorch: the responsible box (highest IoU) in each
    cell holding an object regresses its centre and sqrt size (x5) and its confidence the
    IoU; every other box's confidence 0 (x0.5); the class scores the one-hot class."""
    import torch

    output = output.permute(0, 2, 3, 1)  # channels last, as the targets
    rows, cols = output.shape[1:3]
    boxes = output[..., :5 * boxes_per_cell].reshape(*output.shape[:3], boxes_per_cell, 5)
    classes = output[..., 5 * boxes_per_cell:]
    has_object, true_box = target[..., :1], target[..., None, 1:5]
    cells = torch.tensor([cols, rows], dtype=torch.float32)

    def corners(centre, size):
        centre = centre / cells
        return torch.cat([centre - size / 2, centre + size / 2], dim=-1)

    with torch.no_grad():
        a, b = corners(boxes[..., :2], boxes[..., 2:4] ** 2), corners(true_box[..., :2],
                                                                    true_box[..., 2:4])
        inter = (torch.minimum(a[..., 2:], b[..., 2:]) - torch.maximum(a[..., :2], b[..., :2])
                 ).clamp(min=0).prod(-1)
        areas = [(box[..., 2:] - box[..., :2]).clamp(min=0).prod(-1) for box in (a, b)]
        overlap = inter / (areas[0] + areas[1] - inter).clamp(min=1e-9)
    responsible = has_object * torch.nn.functional.one_hot(
        overlap.argmax(-1), boxes_per_cell).float()
    coordinates = (((boxes[..., :2] - true_box[..., :2]) ** 2).sum(-1)
                   + ((boxes[..., 2:4] - true_box[..., 2:4].sqrt()) ** 2).sum(-1))
    confidence = boxes[..., 4]
    loss = (5.0 * responsible * coordinates + responsible * (confidence - overlap) ** 2
            + 0.5 * (1 - responsible) * confidence ** 2)
    class_loss = has_object[..., 0] * ((classes - target[..., 5:]) ** 2).sum(-1)
    return (loss.sum((1, 2, 3)) + class_loss.sum((1, 2))).mean()


def run_pytorch(workload, steps, epochs, compile=False):
    import torch
    from torch import nn

    _, _, data, task, batch, _ = WORKLOADS[workload]
    # as TensorFlow, XLA and kerasdl on PyTorch do: without it, the recurrent workloads
    # measure the CPU's handling of denormal gradients (about 10x slower), not PyTorch
    torch.set_flush_denormal(not os.environ.get("KEEP_DENORMALS"))
    torch.manual_seed(0)
    network = _torch_network(workload)
    params = sum(p.numel() for p in network.parameters())
    x, y = _data(*data, n=batch * steps)
    if x.ndim == 4:
        x = x.transpose(0, 3, 1, 2).copy()  # PyTorch's channels-first layout
    x = torch.from_numpy(x).long() if x.dtype == np.int32 else torch.from_numpy(x)
    y = None if y is None else torch.from_numpy(np.asarray(y))
    if task == "segmentation":
        y = y.long()
    if task == "adversarial":
        step = _gan_step(network, batch, compile)
    else:
        loss_fn = nn.MSELoss() if task == "regression" else \
            _torch_yolo_loss if task == "detection" else nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
        forward = torch.compile(network) if compile else network

        def step(xb, yb):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(forward(xb), yb)
            loss.backward()
            optimizer.step()
            return loss
    network.train()
    seconds = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        for i in range(steps):
            batch_slice = slice(i * batch, (i + 1) * batch)
            loss = step(x[batch_slice], None if y is None else y[batch_slice])
        loss.item()
        seconds.append(time.perf_counter() - start)
    per_step = [1000 * s / steps for s in seconds[1:]]
    return {"backend": "pytorch" + ("-compile" if compile else ""), "params": params,
            "batch_size": batch, "steps": steps, "epochs": epochs,
            "ms_per_step": statistics.median(per_step), "ms_per_step_min": min(per_step),
            "warmup_s": seconds[0], "threads": torch.get_num_threads(),
            "peak_rss_mb": peak_rss_mb()}


def _gan_step(networks, batch, compile):
    """kerasdl's GAN step: the discriminator on real and fresh fake samples, then the
    generator through the discriminator on another fresh batch (non-saturating loss)."""
    import torch
    from torch import nn

    g, d = networks["generator"], networks["discriminator"]
    if compile:
        g, d = torch.compile(g), torch.compile(d)
    bce = nn.BCEWithLogitsLoss()
    g_opt = torch.optim.Adam(networks["generator"].parameters(), 1e-3, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(networks["discriminator"].parameters(), 1e-3, betas=(0.5, 0.999))
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)

    def step(real, _):
        with torch.no_grad():
            fake = g(torch.randn(batch, 100))
        d_opt.zero_grad(set_to_none=True)
        d_loss = bce(d(real), ones) + bce(d(fake), zeros)
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad(set_to_none=True)
        g_loss = bce(d(g(torch.randn(batch, 100))), ones)
        g_loss.backward()
        g_opt.step()
        return g_loss
    return step


# ---- LeNet-5 and the LSTM in plain JAX (Flax + Optax) --------------------------------


def run_flax(workload, steps, epochs):
    import jax
    import jax.numpy as jnp
    import optax
    from flax import linen as nn

    _, _, data, task, batch, _ = WORKLOADS[workload]
    if workload == "lenet5":
        class Network(nn.Module):
            @nn.compact
            def __call__(self, x):
                x = jnp.pad(x, ((0, 0), (2, 2), (2, 2), (0, 0)))
                for filters in (6, 16):
                    x = jnp.tanh(nn.Conv(filters, (5, 5), padding="VALID")(x))
                    x = nn.avg_pool(x, (2, 2), (2, 2))
                x = x.reshape((x.shape[0], -1))
                for units in (120, 84):
                    x = jnp.tanh(nn.Dense(units)(x))
                return nn.Dense(10)(x)
    elif workload == "lstm":
        class Network(nn.Module):
            @nn.compact
            def __call__(self, x):
                return nn.Dense(1)(nn.RNN(nn.OptimizedLSTMCell(128))(x)[:, -1])
    else:
        raise ValueError(f"no Flax network for {workload!r}")
    network = Network()
    x, y = _data(*data, n=batch * steps)
    params = network.init(jax.random.PRNGKey(0), x[:1])
    optimizer = optax.adam(1e-3)
    state = optimizer.init(params)

    def loss_fn(params, xb, yb):
        out = network.apply(params, xb)
        if task == "regression":
            return jnp.mean((out - yb) ** 2)
        return optax.softmax_cross_entropy_with_integer_labels(out, yb).mean()

    @jax.jit
    def step(params, state, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    seconds = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        for i in range(steps):
            params, state, loss = step(params, state, x[i * batch:(i + 1) * batch],
                                       y[i * batch:(i + 1) * batch])
        loss.block_until_ready()
        seconds.append(time.perf_counter() - start)
    per_step = [1000 * s / steps for s in seconds[1:]]
    count = sum(p.size for p in jax.tree_util.tree_leaves(params))
    return {"backend": "flax", "params": int(count), "batch_size": batch, "steps": steps,
            "epochs": epochs, "ms_per_step": statistics.median(per_step),
            "ms_per_step_min": min(per_step), "warmup_s": seconds[0],
            "threads": os.cpu_count(), "peak_rss_mb": peak_rss_mb()}


def run_tuner(trials=8, epochs=3):
    import tempfile

    import keras

    from kerasdl.tuning import search

    start = time.perf_counter()
    search("mlp", tuner="random", dataset="digits", max_trials=trials, epochs=epochs,
           directory=tempfile.mkdtemp(), verbose=0)
    seconds = time.perf_counter() - start
    return {"backend": keras.backend.backend(), "trials": trials, "epochs": epochs,
            "seconds": seconds, "s_per_trial": seconds / trials, "peak_rss_mb": peak_rss_mb()}


def tuner_table(rounds):
    """`run_tuner` on each backend, each in a fresh process, rounds interleaved."""
    rows = compare("tuner", rounds=rounds, command=[sys.executable, __file__], impl="tuner",
                   steps=8, epochs=3)
    medians, _ = summary(rows, key="s_per_trial")
    best = min(medians.values())
    lines = [f"KerasTuner random search, 8 trials x 3 epochs of an MLP on the 8x8 digits "
             f"(median of {rounds} interleaved rounds; {datetime.date.today()}, "
             f"`python benchmarks/backends.py --tuner --rounds {rounds}`)", "",
             "| backend | s per trial | vs fastest | peak MB |", "|---|---:|---:|---:|"]
    for backend, runs in rows.items():
        lines.append(f"| {backend} | {medians[backend]:.2f} | {medians[backend] / best:.2f}x "
                     f"| {max(r['peak_rss_mb'] for r in runs):.0f} |")
    return "\n".join(lines), rows


# ---- the harness ----------------------------------------------------------------------


def _work(impl, steps, epochs, workload=None, name=None, steps_per_execution=1):
    """One run of `impl`; `name` is the workload as `compare` sends it (the tuner's)."""
    if impl == "tuner":
        return run_tuner(steps, epochs)
    if impl.startswith(("kerasdl", "keras[")):
        lever = impl.partition("+")[2]
        return run_kerasdl(workload, steps, epochs,
                           jit_compile=True if lever in ("xla", "compile") else None,
                           steps_per_execution=steps_per_execution if lever == "spe" else 1,
                           plain=impl.startswith("keras["))
    if impl == "flax":
        return run_flax(workload, steps, epochs)
    return run_pytorch(workload, steps, epochs, compile=impl == "pytorch-compile")


def implementations(workload, compile, jit=False, plain_keras=False, spe=False):
    impls = [("pytorch", "torch")] + [(f"kerasdl[{b}]", b) for b in BACKENDS]
    if compile:
        impls.append(("pytorch-compile", "torch"))
    if jit:
        impls += [("kerasdl[tensorflow]+xla", "tensorflow"), ("kerasdl[torch]+compile", "torch")]
    if spe:  # PyTorch's fit loops over the steps in Python either way
        impls += [("kerasdl[tensorflow]+spe", "tensorflow"), ("kerasdl[jax]+spe", "jax")]
    if plain_keras and workload in PLAIN_KERAS:
        impls += [(f"keras[{b}]", b) for b in BACKENDS]
    if workload in FLAX:
        impls.append(("flax", "jax"))
    return impls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="+", choices=list(WORKLOADS),
                        default=list(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="steps per timed epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after a warm-up")
    parser.add_argument("--compile", action="store_true", help="also plain PyTorch with "
                        "torch.compile (minutes of compilation per workload on a CPU)")
    parser.add_argument("--jit", action="store_true", help="also kerasdl with jit_compile=True "
                        "on TensorFlow (XLA) and PyTorch (torch.compile)")
    parser.add_argument("--steps-per-execution", type=int, default=0, metavar="N",
                        help="also kerasdl with Keras's steps_per_execution=N on TensorFlow "
                        "and JAX")
    parser.add_argument("--plain-keras", action="store_true", help="also LeNet-5 written "
                        "directly in Keras, on every backend")
    parser.add_argument("--tuner", action="store_true", help="time a KerasTuner search per "
                        "backend instead")
    parser.add_argument("--output", help="the table's file (default: benchmarks/results/"
                                         "backends.md, tuner.md with --tuner); the raw rows "
                                         "go next to it as .json")
    args = parser.parse_args()
    args.output = args.output or os.path.join(os.path.dirname(__file__), "results",
                                              "tuner.md" if args.tuner else "backends.md")
    args.load = os.getloadavg()[0]  # before anything of ours runs: the machine's own load
    if args.tuner:
        table, rows = tuner_table(args.rounds)
        print(table)
        with open(args.output, "w") as f:
            f.write(table + "\n")
        with open(args.output.replace(".md", ".json"), "w") as f:
            json.dump(rows, f, indent=1)
        return

    results, failed = {}, {}
    for workload in args.workloads:
        impls = implementations(workload, args.compile, args.jit, args.plain_keras,
                                args.steps_per_execution)
        runs = {impl: [] for impl, _ in impls}
        for _ in range(args.rounds):
            for impl, backend in [i for i in impls if i[0] not in failed.get(workload, {})]:
                try:
                    row = run_worker([sys.executable, __file__], backend,
                                     dict(impl=impl, workload=workload, steps=args.steps,
                                          epochs=args.epochs,
                                          steps_per_execution=args.steps_per_execution))
                except RuntimeError as err:
                    if "+" not in impl:  # only a lever may fail and be reported as failed
                        raise
                    why = _last_error(str(err))
                    print(f"{workload:<12} {impl:<20} failed: {why}", file=sys.stderr,
                          flush=True)
                    runs.pop(impl, None)
                    failed.setdefault(workload, {})[impl] = why
                    continue
                runs[impl].append(row)
                print(f"{workload:<12} {impl:<20} {row['ms_per_step']:8.1f} ms/step "
                      f"(load {row['load']})", file=sys.stderr, flush=True)
        _check_params(workload, runs)
        results[workload] = runs
    table = _table(results, args, failed)
    print(table)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(table + "\n")
    with open(args.output.replace(".md", ".json"), "w") as f:
        json.dump(results, f, indent=1)


def _last_error(stderr):
    """The last ``SomeError: message`` line of a traceback, without terminal colours."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in stderr.splitlines()]
    errors = [line for line in lines if re.match(r"^\w*(Error|Exception)\b", line)]
    return errors[-1] if errors else lines[-1]


def _check_params(workload, runs):
    reference = runs["kerasdl[tensorflow]"][0]["params"] if "kerasdl[tensorflow]" in runs \
        else None
    expected = WORKLOADS[workload][5]
    for impl, rows in runs.items():
        extra = expected.get(impl.split("-")[0], (0, ""))[0]
        if reference is not None and rows[0]["params"] != reference + extra:
            raise AssertionError(f"{workload}: {impl} has {rows[0]['params']:,} parameters, "
                                 f"kerasdl {reference:,} (+{extra} expected)")


def _table(results, args, failed):
    impls = ["pytorch", "kerasdl[torch]", "kerasdl[jax]", "kerasdl[tensorflow]", "flax",
             "pytorch-compile", "kerasdl[tensorflow]+xla", "kerasdl[torch]+compile",
             "kerasdl[tensorflow]+spe", "kerasdl[jax]+spe",
             *(f"keras[{b}]" for b in BACKENDS)]
    used = [i for i in impls if any(i in runs for runs in results.values())
            or any(i in f for f in failed.values())]
    flags = "".join(f" --{name.replace('_', '-')}" for name in ("compile", "jit", "plain_keras")
                    if getattr(args, name))
    flags += f" --steps-per-execution {args.steps_per_execution}" * bool(args.steps_per_execution)
    lines = [f"ms per training step (median over {args.rounds} interleaved rounds of "
             f"{args.epochs} x {args.steps} steps after a warm-up epoch), and in brackets the "
             f"ratio to plain PyTorch in the same round; {platform.processor() or 'CPU'}, "
             f"{os.cpu_count()} cores, load average {args.load:.2f} before the run, "
             f"{datetime.date.today()}, `python benchmarks/backends.py --workloads "
             f"{' '.join(results)} --rounds {args.rounds} --steps {args.steps} --epochs "
             f"{args.epochs}{flags}`.", "",
             "| workload | " + " | ".join(used) + " | warm-up s (kerasdl tf/jax/torch) |",
             "|---|" + "---:|" * len(used) + "---|"]
    for workload, runs in results.items():
        base = [r["ms_per_step"] for r in runs["pytorch"]]
        cells = []
        for impl in used:
            if impl not in runs:
                cells.append("failed" if impl in failed.get(workload, {}) else "")
                continue
            ms = statistics.median(r["ms_per_step"] for r in runs[impl])
            ratio = statistics.median(r["ms_per_step"] / b for r, b in zip(runs[impl], base))
            cells.append(f"{ms:.1f}" + ("" if impl == "pytorch" else f" ({ratio:.2f}x)"))
        warmup = "/".join(f"{max(r['warmup_s'] for r in runs[f'kerasdl[{b}]']):.1f}"
                          for b in BACKENDS)
        lines.append(f"| {workload} | " + " | ".join(cells) + f" | {warmup} |")
    lines += [""] + [f"{workload} {impl} failed: {why}" for workload, impls in failed.items()
                     for impl, why in impls.items()]
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(_work)
    else:
        main()
