"""Export for deployment: a `.keras` file, a TensorFlow SavedModel, or ONNX, each checked.

Everything goes through Keras's own `Model.export` (SavedModel from TensorFlow or JAX;
ONNX from TensorFlow via tf2onnx, from JAX via jax2onnx, from PyTorch via torch.onnx).
What is exported is what is served: a GAN its generator, a VAE its encoder and its
decoder, an encoder-decoder its teacher-forced training graph. The batch axis stays
dynamic where the backend's exporter allows it.

`check(model, path, x)` runs the exported file (onnxruntime, or `tf.saved_model.load`)
on `x` and returns the largest difference from the Keras predictions; `triton_repository`
lays an ONNX file out as a Triton model repository.
"""

import os
import shutil

import keras
import numpy as np

from kerasdl import detection
from kerasdl._checks import closest
from kerasdl.building import load_model

FORMATS = ("keras", "savedmodel", "onnx")
PRODUCERS = {"keras": ("tensorflow", "jax", "torch"), "savedmodel": ("tensorflow", "jax"),
             "onnx": ("tensorflow", "jax", "torch")}
SUFFIX = {"keras": ".keras", "savedmodel": "", "onnx": ".onnx"}
ONNX_CONVERTERS = {"tensorflow": "tf2onnx", "jax": "jax2onnx", "torch": "torch.onnx"}


def converter_limit(name, error):
    """One line for an ONNX export that the current backend's converter (or onnxruntime,
    reading what it wrote) could not do: which converter, its first line of error, and
    the backend whose converter exports every kerasdl model (docs/export.md's matrix)."""
    backend = keras.backend.backend()
    first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return (f"{ONNX_CONVERTERS[backend]} (the {backend} backend's ONNX converter) cannot "
            f"export {name}: {type(error).__name__}: {first}. TensorFlow's converter "
            f"(tf2onnx) exports every kerasdl model: run the export with "
            f"KERAS_BACKEND=tensorflow (the .keras file loads there).")


def parts(model):
    """``{suffix: network}``: what an export of `model` holds ('' for the model itself)."""
    if hasattr(model, "generator"):
        return {"_generator": model.generator}
    if hasattr(model, "encoder") and hasattr(model, "decoder"):
        return {"_encoder": model.encoder, "_decoder": model.decoder}
    return {"": model}


def export(model, path, format="onnx"):
    """Export `model` to `path` (without suffix: ``runs/lenet5/model`` gives
    ``model.onnx``); returns ``{written path: network}``.

    Raises:
        ValueError: an unknown format, one this backend cannot produce (the backends
            that can are named), or an unbuilt model.
    """
    if format not in FORMATS:
        raise ValueError(f"Unknown export format {format!r}; choose one of {list(FORMATS)}."
                         + closest(format, FORMATS))
    backend = keras.backend.backend()
    if backend not in PRODUCERS[format]:
        raise ValueError(f"The {backend} backend cannot export {format}; use one of "
                         f"{list(PRODUCERS[format])} (KERAS_BACKEND=... or --backend).")
    if not model.built:
        raise ValueError(f"{model.name} is not built: build it (call it on a batch) before "
                         f"exporting it.")
    written = {}
    stem = os.fspath(path)
    for suffix in SUFFIX.values():
        if suffix and stem.endswith(suffix):
            stem = stem[: -len(suffix)]
    for name, network in parts(model).items():
        target = stem + name + SUFFIX[format]
        if format == "keras":
            network.save(target)
        else:
            _export_inference_graph(network, target, format)
        if format == "onnx" and detection.layout(network) is not None:
            _record_layout(network, target)
        written[target] = network
    return written


def _export_inference_graph(network, target, format):
    """`Model.export` without the activity regularizers: they add training losses that
    inference does not compute (and tf2onnx cannot convert)."""
    inputs = network.inputs  # the signature: Keras wants it unless the model was called
    signature = [inputs[0]] if len(inputs) == 1 else [list(inputs)]
    regularized = [layer for layer in network.layers
                   if getattr(layer, "activity_regularizer", None) is not None]
    saved = [layer.activity_regularizer for layer in regularized]
    try:
        for layer in regularized:
            layer.activity_regularizer = None
        network.export(target, format="tf_saved_model" if format == "savedmodel" else "onnx",
                       verbose=False, input_signature=signature)
    finally:
        for layer, regularizer in zip(regularized, saved):
            layer.activity_regularizer = regularizer


def _record_layout(detector, path):
    """Write a detector's B and C into its ONNX file's metadata: the graph ends at the
    grid's raw outputs, and decoding and non-maximum suppression (`kerasdl.detection`,
    `kerasdl predict`) run after onnxruntime, where they need them."""
    import onnx

    _, _, boxes, classes = detection.layout(detector)
    graph = onnx.load(path)
    onnx.helper.set_model_props(graph, {"kerasdl.boxes_per_cell": str(boxes),
                                        "kerasdl.num_classes": str(classes)})
    onnx.save(graph, path)


def boxes_per_cell(path):
    """A detector's B, from its `.keras` file's Grid or its `.onnx` file's metadata; None
    for any other model."""
    if os.fspath(path).endswith(".onnx"):
        import onnxruntime

        meta = onnxruntime.InferenceSession(os.fspath(path), providers=[
            "CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
        return int(meta["kerasdl.boxes_per_cell"]) if "kerasdl.boxes_per_cell" in meta else None
    layout = detection.layout(load_model(path))
    return layout and layout[2]


def sample_inputs(network, batch, rng):
    """Random inputs for `network`: `batch` examples, free axes as long as the first fixed
    one (a decoder's target as its source) or 8, token ids and labels in {1, 2} (valid for
    any vocabulary or class count above 2), floats in [0, 1)."""
    length = next((d for i in network.inputs for d in i.shape[1:] if d is not None), 8)
    x = []
    for spec in network.inputs:
        shape = (batch, *(length if d is None else d for d in spec.shape[1:]))
        x.append(rng.integers(1, 3, shape).astype(spec.dtype) if "int" in spec.dtype
                 else rng.random(shape).astype(spec.dtype))
    return x if len(x) > 1 else x[0]


def run_exported(path, x):
    """Predictions of an exported file on `x` (an array or a list for several inputs):
    onnxruntime for ``.onnx``, `tf.saved_model.load` for a SavedModel directory,
    `kerasdl.load_model` for ``.keras``."""
    xs = list(x) if isinstance(x, (list, tuple)) else [x]
    if os.fspath(path).endswith(".onnx"):
        import onnxruntime

        session = onnxruntime.InferenceSession(os.fspath(path),
                                               providers=["CPUExecutionProvider"])
        feeds = {}
        for spec, value in zip(session.get_inputs(), xs):
            value = np.asarray(value)
            want = tuple(d if isinstance(d, int) else None for d in spec.shape)
            if len(want) != value.ndim or any(w not in (None, v) for w, v in zip(want, value.shape)):
                raise ValueError(f"{path} takes input {spec.name!r} of shape {spec.shape} "
                                 f"(None: any); received an array of shape {value.shape}.")
            feeds[spec.name] = value
        outputs = session.run(None, feeds)
    elif os.path.isdir(path):
        import tensorflow as tf

        loaded = tf.saved_model.load(os.fspath(path))
        outputs = loaded.serve(xs[0] if len(xs) == 1 else xs)  # several inputs: one list
        outputs = [np.asarray(o) for o in (outputs if isinstance(outputs, (list, tuple))
                                           else [outputs])]
    else:
        model = load_model(path)
        for spec, value in zip(model.inputs, xs):
            want = tuple(spec.shape[1:])
            if np.ndim(value) != len(want) + 1 or any(
                    w not in (None, v) for w, v in zip(want, np.shape(value)[1:])):
                raise ValueError(f"{path} takes inputs of shape {(None, *want)} (None: any); "
                                 f"received an array of shape {np.shape(value)}.")
        outputs = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    return outputs[0] if len(outputs) == 1 else outputs


def check(network, path, x):
    """Largest absolute difference between `network`'s Keras predictions on `x` and
    those of its export at `path`."""
    expected = network.predict(x, verbose=0)
    got = run_exported(path, x)
    expected, got = (expected if isinstance(expected, list) else [expected],
                     got if isinstance(got, list) else [got])
    return max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(expected, got))


def triton_repository(onnx_path, directory, name, max_batch_size=64):
    """Lay `onnx_path` out as a Triton model repository: ``directory/name/1/model.onnx``
    and ``directory/name/config.pbtxt`` (onnxruntime platform, tensor names, dtypes,
    dims without the batch axis, `max_batch_size`). Returns the config's path."""
    import onnx

    version = os.path.join(directory, name, "1")
    os.makedirs(version, exist_ok=True)
    shutil.copyfile(onnx_path, os.path.join(version, "model.onnx"))
    graph = onnx.load(onnx_path).graph
    initializers = {i.name for i in graph.initializer}

    def tensors(kind, values):
        lines = []
        for value in values:
            if value.name in initializers:
                continue
            tensor = value.type.tensor_type
            dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor.elem_type)
            dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim][1:]
            lines.append(f'  {{\n    name: "{value.name}"\n    data_type: '
                         f'{_TRITON_TYPES[np.dtype(dtype).name]}\n    dims: {dims}\n  }}')
        return f"{kind} [\n" + ",\n".join(lines) + "\n]"

    config = (f'name: "{name}"\nplatform: "onnxruntime_onnx"\nmax_batch_size: '
              f"{max_batch_size}\n{tensors('input', graph.input)}\n"
              f"{tensors('output', graph.output)}\n")
    path = os.path.join(directory, name, "config.pbtxt")
    with open(path, "w") as f:
        f.write(config)
    return path


_TRITON_TYPES = {"float32": "TYPE_FP32", "float64": "TYPE_FP64", "int32": "TYPE_INT32",
                 "int64": "TYPE_INT64", "bool": "TYPE_BOOL", "float16": "TYPE_FP16"}
