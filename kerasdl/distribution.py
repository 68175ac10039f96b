"""Training on several devices with Keras's own engines, not a home-made one.

    with kerasdl.distribution.scope("data", batch_size=64):
        model = kerasdl.build("lenet5")
        train_model(model, train, test)        # or compile + fit

- JAX: ``"data"`` is `keras.distribution.DataParallel` over every device (the batch split
  across them, the weights replicated); ``"model"`` is `keras.distribution.ModelParallel`
  on a (batch, model) mesh, with the Transformers' attention heads and feed-forward
  widths sharded over the "model" axis (`transformer_layout_map`, Megatron-style).
  Several hosts: `initialize` in every process first (`kerasdl train --coordinator`);
  `kerasdl.training.Batches` then feeds each process its share of every global batch, and
  `train_model` writes from process 0 (`process_directory`) and evaluates a `local_copy`.
- TensorFlow: ``"data"`` is `tf.distribute.MirroredStrategy` over every device.
- PyTorch: refused. Keras 3.15's `fit` has no DistributedDataParallel; PyTorch's own DDP
  needs a training loop of its own (Keras's DDP guide writes one), which would give up
  what `fit` gives (callbacks, backups, metrics), so kerasdl names the backends that can.

On a CPU, `cpu_devices(n)` splits the processor into `n` devices (what the tests use; it
must run before the backend starts). So that it can, this module imports Keras and the
backends' libraries inside its functions, never when it is imported.
"""

import contextlib
import os

import numpy as np

KINDS = ("data", "model")
BACKENDS = {"data": ("jax", "tensorflow"), "model": ("jax",)}


def cpu_devices(n):
    """Make the CPU appear as `n` devices to the backend about to be imported: JAX's
    ``--xla_force_host_platform_device_count`` or TensorFlow's logical devices. Call it
    before Keras is imported (JAX) or before TensorFlow runs anything."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive number of devices; received n={n!r}.")
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={n}".strip()
    elif backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])


def devices():
    """The devices a distribution spreads over: accelerators if there are any, else CPUs."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        found = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return [d.name for d in found]
    return keras.distribution.list_devices()


def initialize(coordinator, num_processes, process_id):
    """Join `num_processes` processes (hosts) into one JAX runtime before building:
    `keras.distribution.initialize` (``jax.distributed`` underneath), with Gloo for the
    collectives between CPU processes. Then `scope` spans every process's devices, and each
    process feeds its own share of every batch (`shard`).

    Args:
        coordinator: "host:port" of process 0, the same in every process.
        num_processes: how many processes train together.
        process_id: this process's index, 0 to num_processes - 1.
    """
    import keras

    if keras.backend.backend() != "jax":
        raise ValueError(f"Several processes train together through JAX's runtime; the "
                         f"{keras.backend.backend()} backend is not supported: use "
                         f"KERAS_BACKEND=jax.")
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    keras.distribution.initialize(coordinator, num_processes=num_processes,
                                  process_id=process_id)


def processes():
    """The number of processes training together (1 unless `keras.distribution.initialize`
    joined several: JAX's multi-host mode)."""
    import keras

    if keras.backend.backend() != "jax":
        return 1
    import jax

    return jax.process_count()


def process_index():
    """This process's index among those training together (0 when alone)."""
    if processes() == 1:
        return 0
    import jax

    return jax.process_index()


def replicas():
    """How many model replicas the active JAX distribution splits each batch over (the
    size of its mesh's batch axis); 1 without one. (TensorFlow's MirroredStrategy splits
    batches of any size itself.)"""
    import keras

    if keras.backend.backend() != "jax" or keras.distribution.distribution() is None:
        return 1
    mesh = keras.distribution.distribution().device_mesh
    return mesh.shape[mesh.axis_names.index(keras.distribution.distribution().batch_dim_name)]


def split_batch(size):
    """How one global batch of `size` rows is fed: ``(kept, part)``, the rows kept (a
    multiple of the replicas, so that each device gets as many; at most ``replicas() - 1``
    are left out, and none without a distribution) and the slice of them this process
    feeds (with P processes, process p's contiguous P-th)."""
    kept = size // replicas() * replicas()
    count, index = processes(), process_index()
    return kept, slice(index * kept // count, (index + 1) * kept // count)


def shard(x, batch_size):
    """This process's share of every global batch of `x` (an array or a list of arrays),
    in order (`split_batch` of each). Pass it to `fit` with ``batch_size // processes()``;
    `kerasdl.training.Batches` does this itself. One process: `x` itself."""
    if processes() == 1:
        return x
    if batch_size % processes():
        raise ValueError(f"batch_size={batch_size} does not split over {processes()} "
                         f"processes.")
    length = len(x[0]) if isinstance(x, (list, tuple)) else len(x)
    rows = []
    for start in range(0, length, batch_size):
        batch = np.arange(start, min(start + batch_size, length))
        kept, part = split_batch(len(batch))
        rows.append(batch[:kept][part])
    rows = np.concatenate(rows)
    return [a[rows] for a in x] if isinstance(x, (list, tuple)) else x[rows]


@contextlib.contextmanager
def outside():
    """Set the active JAX distribution aside: what runs inside stays on this process's own
    devices (`local_copy`), and nothing in it waits for the other processes."""
    import keras

    active = keras.distribution.distribution() if keras.backend.backend() == "jax" else None
    if active is None:
        yield
        return
    keras.distribution.set_distribution(None)
    try:
        yield
    finally:
        keras.distribution.set_distribution(active)


def local_copy(model):
    """`model` (weights and optimizer state) on this process's own devices: what evaluation
    runs on, inside `outside()`, when several processes trained together, since a
    prediction of the distributed model spans devices no single process can read. The
    weights are replicated (data parallel), so each process has them all."""
    import tempfile

    from kerasdl.building import load_model  # imports Keras: see the module's docstring

    with outside(), tempfile.TemporaryDirectory() as scratch:
        model.save(os.path.join(scratch, "model.keras"))
        return load_model(os.path.join(scratch, "model.keras"))


def process_directory(output_dir):
    """Where this process writes while training: `output_dir` in process 0 (or when alone);
    in the others a scratch directory holding a copy of process 0's backup. Every process
    saves when process 0 saves (a save of a distributed model is a step they take
    together, as TensorFlow's multi-worker guide has it), and only process 0's files are
    kept. Every process must see process 0's backup (a filesystem the hosts share) to
    resume with it; a process that does not is an error, not a hang."""
    if output_dir is None or processes() == 1:
        return output_dir
    from jax.experimental import multihost_utils

    backup = os.path.join(output_dir, "backup")
    found = multihost_utils.process_allgather(
        np.asarray(os.path.isdir(backup) and bool(os.listdir(backup))))
    if found.any() and not found.all():
        raise ValueError(
            f"Processes {np.flatnonzero(found).tolist()} find the backup {backup} and "
            f"processes {np.flatnonzero(~found).tolist()} do not: to resume, every process "
            f"must see it; put the output directory on a filesystem every host shares.")
    if process_index() == 0:
        return output_dir
    import shutil
    import tempfile

    scratch = tempfile.mkdtemp(prefix=f"kerasdl-process{process_index()}-")
    if found.all():
        shutil.copytree(backup, os.path.join(scratch, "backup"))
    return scratch


def transformer_layout_map(mesh):
    """A `keras.distribution.LayoutMap` sharding kerasdl's `TransformerBlock` over the
    mesh's "model" axis: the query, key and value kernels by head and the attention
    output by head, the first feed-forward kernel by column and the second by row, so
    that each block needs one all-reduce after attention and one after the feed-forward
    net. Every other weight is replicated."""
    import keras

    layout = keras.distribution.LayoutMap(mesh)
    layout[r".*attention/(query|key|value)/kernel"] = (None, "model", None)
    layout[r".*attention/(query|key|value)/bias"] = ("model", None)
    layout[r".*attention/attention_output/kernel"] = ("model", None, None)
    layout[r".*/ff1/kernel"] = (None, "model")
    layout[r".*/ff1/bias"] = ("model",)
    layout[r".*/ff2/kernel"] = ("model", None)
    return layout


@contextlib.contextmanager
def scope(kind, *, batch_size, model_parallel=2):
    """Build, compile and fit inside this to train on every device.

    Args:
        kind: "data" (every backend but PyTorch) or "model" (JAX; Transformers).
        batch_size: the global batch, split evenly over the model replicas.
        model_parallel: devices per model replica ("model" only): the size of the mesh's
            "model" axis; the rest of the devices form the "batch" axis.
    """
    import keras

    from kerasdl._checks import check_choice

    check_choice(kind, "kind", KINDS)
    backend = keras.backend.backend()
    if backend not in BACKENDS[kind]:
        raise ValueError(
            f"{kind} parallelism runs on Keras's own engines, which the {backend} backend "
            f"does not have in Keras {keras.__version__}"
            + (" (its fit has no DistributedDataParallel)" if backend == "torch" else "")
            + f"; use KERAS_BACKEND={' or '.join(BACKENDS[kind])}.")
    found = devices()
    replicas = len(found) // model_parallel if kind == "model" else len(found)
    if kind == "model" and (model_parallel < 1 or len(found) % model_parallel):
        raise ValueError(f"`model_parallel`={model_parallel} must divide the {len(found)} "
                         f"devices found.")
    if batch_size % replicas:
        raise ValueError(
            f"batch_size={batch_size} does not split evenly over {replicas} model replicas "
            f"({len(found)} devices); use a multiple of {replicas}, e.g. "
            f"{max(replicas, batch_size // replicas * replicas)}.")
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.distribute.MirroredStrategy(found).scope():
            yield
        return
    # several processes (hosts): each feeds its own share of every batch (`shard`)
    own_shards = dict(auto_shard_dataset=False) if processes() > 1 else {}
    if kind == "data":
        distribution = keras.distribution.DataParallel(devices=found, **own_shards)
    else:
        mesh = keras.distribution.DeviceMesh((replicas, model_parallel), ("batch", "model"),
                                             devices=found)
        distribution = keras.distribution.ModelParallel(
            layout_map=transformer_layout_map(mesh), batch_dim_name="batch", **own_shards)
    with distribution.scope():
        yield
