"""Building and loading kerasdl models: `kerasdl.build` and `kerasdl.load_model`.

Both turn on kerasdl's speed-ups of the backend (`kerasdl.backend.use_fast_kernels`),
unless the program or the environment turned them off.
"""

import os
import zipfile

import keras

# imported for the classes they register with Keras, which a saved model may name
import kerasdl.layers  # noqa: F401
import kerasdl.losses  # noqa: F401
from kerasdl._checks import closest
from kerasdl.backend import install_defaults
from kerasdl.blocks import feature_maps
from kerasdl.registry import get_spec, list_models, load_families
from kerasdl.weights import load_weights


def register_classes():
    """Register every kerasdl layer, loss and model class (GAN, VAE, ...) with Keras, so
    that `keras.saving.load_model` reads any kerasdl file."""
    load_families()


def build(model, /, *, features=False, **kwargs):
    """Build the registered `model` as a functional `keras.Model`.

    Args:
        model: a name from `list_models()`, e.g. "resnet18" (positional).
        **kwargs: the builder's keyword arguments (`input_shape`, `num_classes`,
            `include_top`, `pooling`, `classifier_activation`, `dropout`, `name`, and
            the family's width knobs); see `model_info(model)["arguments"]`. And
            `weights`: the path of trained weights to start from -- a kerasdl `.keras`
            or `.weights.h5` of the same architecture (its classifier is rebuilt if it
            was trained for another number of classes) or a keras.applications `.h5`;
            see `kerasdl.weights.load_weights`.
        features: a convolutional model only: return the model of its feature maps at
            each of its resolutions instead (`kerasdl.blocks.feature_maps`), built
            without the classifier (so the `weights` of a classifier trained at another
            input size load), to start a dense model such as a detector from: see the
            `backbone` of `unet` and `yolo`.

    Returns:
        A `keras.Model`.

    Example:
        >>> model = kerasdl.build("resnet18", input_shape=(32, 32, 3), num_classes=10,
        ...                       stem="small")
    """
    spec = get_spec(model)
    install_defaults()
    unknown = sorted(set(kwargs) - set(spec.arguments))
    if unknown:
        raise TypeError(
            f"build({model!r}) got unexpected keyword argument(s) {unknown}."
            + closest(unknown[0], spec.arguments)
            + f" {model} accepts: {list(spec.arguments)}."
        )
    if features and spec.family != "convolutional":
        raise ValueError(f"features=True gives the feature maps of a convolutional "
                         f"classifier; {model!r} is {spec.family}. Convolutional models: "
                         f"{list_models(family='convolutional')}.")
    weights = kwargs.pop("weights", None)
    if features:  # the feature maps need no classifier, which ties a model to its input size
        kwargs = {"include_top": False, **kwargs}
    built = spec.build(**kwargs)
    if weights is not None:
        load_weights(built, weights)
    return feature_maps(built) if features else built


def feature_info(model, **kwargs):
    """What ``build(model, features=True, **kwargs)`` outputs, one dict per map, highest
    resolution first: its layer's ``name``, its ``stride`` (the input's height over the
    map's) and its ``channels``, as timm's ``feature_info`` lists them. Built at the
    smallest input the model takes unless `kwargs` give another: a padded network's
    strides are its halvings at any size (unpadded ones, as LeNet's, depend on it).
    """
    spec = get_spec(model)
    kwargs = {"input_shape": spec.min_input, **kwargs}
    features = build(model, features=True, **kwargs)
    height = kwargs["input_shape"][0]
    return [{"name": name, "stride": height / out.shape[1], "channels": out.shape[-1]}
            for name, out in zip(features.output_names, features.outputs)]


def load_model(path, *, safe_mode=True, **kwargs):
    """`keras.saving.load_model` with every kerasdl layer, loss and model class (GAN,
    VAE, ...) registered, so that any kerasdl `.keras` file loads, on any backend.

    A file holding Python code (a `Lambda` layer) is refused unless `safe_mode=False`
    (only for files you trust); a missing, truncated or corrupt file is an error naming it.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path}.")
    if str(path).endswith(".keras") and not zipfile.is_zipfile(path):  # Keras: "not found"
        raise ValueError(f"{path} is not a readable .keras file: it is truncated or corrupt "
                         f"(a .keras file is a zip archive).")
    register_classes()
    install_defaults()
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode, **kwargs)
    except ValueError as err:  # Keras's own message names neither the file nor the way out
        if safe_mode and "safe_mode" in str(err):
            raise ValueError(
                f"{path} holds Python code (a Lambda layer), which loading would run; kerasdl "
                f"refuses it by default. If you trust where the file comes from: "
                f"kerasdl.load_model(path, safe_mode=False).") from None
        raise ValueError(f"{path} could not be loaded: {err}") from err
