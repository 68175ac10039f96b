"""Trained weights into a kerasdl model: what `kerasdl.build(name, weights=PATH)` does.

A kerasdl ``.keras`` or ``.weights.h5`` file of the same architecture loads layer by
layer; its classifier (``predictions``) is rebuilt when it was trained for another number
of classes; any other layer that does not fit is named in the error. A legacy ``.h5`` file
(keras.applications' VGG/DenseNet weights) loads in layer order.
"""

import os

from kerasdl.backend.compat import load_weights_reporting_mismatches

WEIGHT_FILES = (".keras", ".weights.h5", ".h5")


def is_head(layer):
    """True for a classifier output layer (``predictions``, GoogLeNet's ``aux1_predictions``)."""
    return layer.name == "predictions" or layer.name.endswith("_predictions")


def load_weights(model, path):
    """Load the weights of file `path` into `model`; returns the names of the head layers
    left as built (trained for another number of classes).

    Raises:
        ValueError: `path` is not a weights file, or a layer other than the classifier
            does not fit (the first one is named).
    """
    if not isinstance(path, (str, os.PathLike)) or not os.path.isfile(path):
        raise ValueError(
            f"`weights` must be None or the path of a weights file ({', '.join(WEIGHT_FILES)}); "
            f"received weights={path!r}, which is not a file. kerasdl never downloads weights.")
    path = str(path)
    if not path.endswith(WEIGHT_FILES):
        raise ValueError(f"`weights`={path!r} is not a Keras weights file: use a .keras model, a "
                         f".weights.h5 file (model.save_weights) or a keras.applications .h5.")
    if not path.endswith((".keras", ".weights.h5")):
        model.load_weights(path)  # legacy HDF5: layer order
        return []
    skipped = load_weights_reporting_mismatches(model, path)
    heads = [layer.name for layer in model.layers if is_head(layer) and layer.name in skipped]
    others = [name for name in skipped if name not in heads]
    if others:
        raise ValueError(
            f"The weights in {path} do not fit {model.name}: layer {others[0]!r} does not match "
            f"(shape or kind), nor do {others[1:6]}{'...' if len(others) > 6 else ''}. Load a "
            f"file saved from the same architecture and widths; only the classifier may differ.")
    return heads
