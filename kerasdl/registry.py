"""The model registry: every architecture is registered once, by name, with its metadata.

Every module of `kerasdl.models` whose name does not start with "_" is a family: it is
imported on first use and calls `register(...)` for each model it defines, so adding a
model is one file. `build`, `list_models` and `model_info` are the public entry points
(re-exported as `kerasdl.build`, ...).
"""

import dataclasses
import fnmatch
import importlib
import inspect
import pkgutil

from kerasdl._checks import closest
from kerasdl.recipe import Recipe

_REGISTRY = {}
WIDTH_KNOBS = ("hidden_units", "width_multiplier", "filters", "units", "growth_rate",
               "embed_dim", "ff_dim", "d_model")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model.

    Attributes:
        name: registered name, also the default Keras model name.
        family: "feedforward", "convolutional", "recurrent", "attention", "transformer",
            "embedding", "autoencoder" or "generative".
        builder: the family's generic builder function.
        fixed: keyword arguments this variant pins (e.g. ``depth=16`` for VGG-16); a
            caller cannot change them.
        presets: keyword arguments this variant sets by default, that a caller may
            override (e.g. the denoising autoencoder's ``noise_stddev=0.5``).
        paper: the reference.
        default_input: the paper's input shape.
        min_input: the smallest input the default configuration accepts.
        num_classes: the paper's number of classes.
        params: trainable parameters at the paper's size (BN statistics excluded).
        test_kwargs: a small configuration the registry-wide tests build.
        train: the `kerasdl.recipe.Recipe` that `kerasdl train` follows by default
            (dataset, epochs, optimizer, schedule, ..., builder arguments under `model`).
        width: the builder arguments a search scales to vary the model's width (see
            `kerasdl.tuning.spaces`), from `WIDTH_KNOBS`.
        example: the kind of small learnable batch the tests feed it
            (`kerasdl.testing.EXAMPLES`); None: the one its task implies.
    """

    name: str
    family: str
    builder: object
    fixed: dict
    presets: dict
    paper: str
    default_input: tuple
    min_input: tuple
    num_classes: int
    params: int
    test_kwargs: dict
    train: Recipe
    width: tuple
    example: str = None

    @property
    def arguments(self):
        """Keyword arguments `build` accepts for this model (`weights`: see `build`)."""
        names = inspect.signature(self.builder).parameters
        return tuple(n for n in names if n not in self.fixed) + ("weights",)


def register(name, builder, *, family, paper, default_input, min_input, num_classes,
             params, test_kwargs, train=None, fixed=None, presets=None, width=(),
             example=None):
    """Register `builder` under `name`, with `fixed` arguments pinned and `presets` as
    overridable defaults; the other arguments are `ModelSpec`'s attributes."""
    if name in _REGISTRY:
        raise ValueError(f"A model named {name!r} is already registered.")
    arguments = inspect.signature(builder).parameters
    for knob in width:
        if knob not in WIDTH_KNOBS or knob not in arguments:
            raise ValueError(f"{name}: width knob {knob!r} must be one of {WIDTH_KNOBS} "
                             f"and an argument of {builder.__name__}.")
    from kerasdl.testing import EXAMPLES

    if example is not None and example not in EXAMPLES:
        raise ValueError(f"{name}: example {example!r} must be one of {sorted(EXAMPLES)}.")
    _REGISTRY[name] = ModelSpec(
        name=name, family=family, builder=builder, fixed=dict(fixed or {}),
        presets=dict(presets or {}), paper=paper, default_input=tuple(default_input),
        min_input=tuple(min_input), num_classes=num_classes, params=params,
        test_kwargs=test_kwargs, train=Recipe(**{"augment": True, **(train or {})}),
        width=tuple(width), example=example,
    )


def _load_families():
    import kerasdl.backend
    import kerasdl.models

    kerasdl.backend.use_fast_kernels()

    for module in pkgutil.iter_modules(kerasdl.models.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"kerasdl.models.{module.name}")


def get_spec(name):
    """The `ModelSpec` registered under `name`; a ValueError naming close names if none."""
    _load_families()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"Unknown model name {name!r}." + closest(name, _REGISTRY)
            + f" Registered models: {sorted(_REGISTRY)}."
        )
    return _REGISTRY[name]


def build(model, /, **kwargs):
    """Build the registered `model` as a functional `keras.Model`.

    Args:
        model: a name from `list_models()`, e.g. "resnet18" (positional).
        **kwargs: the builder's keyword arguments (`input_shape`, `num_classes`,
            `include_top`, `pooling`, `classifier_activation`, `dropout`, `name`, and
            the family's width knobs); see `model_info(model)["arguments"]`. And
            `weights`: the path of trained weights to start from -- a kerasdl `.keras`
            or `.weights.h5` of the same architecture (its classifier is rebuilt if it
            was trained for another number of classes) or a keras.applications `.h5`;
            see `kerasdl.finetuning.load_weights`.

    Returns:
        A `keras.Model`.

    Example:
        >>> model = kerasdl.build("resnet18", input_shape=(32, 32, 3), num_classes=10,
        ...                       stem="small")
    """
    spec = get_spec(model)
    unknown = sorted(set(kwargs) - set(spec.arguments))
    if unknown:
        raise TypeError(
            f"build({model!r}) got unexpected keyword argument(s) {unknown}."
            + closest(unknown[0], spec.arguments)
            + f" {model} accepts: {list(spec.arguments)}."
        )
    weights = kwargs.pop("weights", None)
    built = spec.builder(**spec.fixed, **{"name": model, **spec.presets, **kwargs})
    if weights is not None:
        from kerasdl.finetuning import load_weights

        load_weights(built, weights)
    return built


def load_model(path, *, safe_mode=True, **kwargs):
    """`keras.saving.load_model` with every kerasdl layer, loss and model class (GAN,
    VAE, ...) registered, so that any kerasdl `.keras` file loads, on any backend.

    A file holding Python code (a `Lambda` layer) is refused unless `safe_mode=False`
    (only for files you trust); a missing, truncated or corrupt file is an error naming it.
    """
    import os
    import zipfile

    import keras

    if not os.path.isfile(path):
        raise FileNotFoundError(f"No model file at {path}.")
    if str(path).endswith(".keras") and not zipfile.is_zipfile(path):  # Keras: "not found"
        raise ValueError(f"{path} is not a readable .keras file: it is truncated or corrupt "
                         f"(a .keras file is a zip archive).")
    importlib.import_module("kerasdl.training")  # registers its label-smoothing loss
    _load_families()
    try:
        return keras.saving.load_model(path, safe_mode=safe_mode, **kwargs)
    except ValueError as err:  # Keras's own message names neither the file nor the way out
        if safe_mode and "safe_mode" in str(err):
            raise ValueError(
                f"{path} holds Python code (a Lambda layer), which loading would run; kerasdl "
                f"refuses it by default. If you trust where the file comes from: "
                f"kerasdl.load_model(path, safe_mode=False).") from None
        raise ValueError(f"{path} could not be loaded: {err}") from err


def list_models(pattern=None, family=None):
    """Sorted registered names, optionally filtered by a glob `pattern` and a `family`."""
    _load_families()
    families = sorted({s.family for s in _REGISTRY.values()})
    if family is not None and family not in families:
        raise ValueError(
            f"Unknown family {family!r}; registered families: {families}."
            + closest(family, families)
        )
    return sorted(
        n for n, s in _REGISTRY.items()
        if (pattern is None or fnmatch.fnmatch(n, pattern))
        and (family is None or s.family == family)
    )


def model_info(name):
    """A dict describing `name`: family, paper, default and minimum input shape,
    number of classes and trainable parameters at the paper's size, the keyword
    arguments its builder accepts, the defaults it presets and its width knobs."""
    spec = get_spec(name)
    return {
        "name": spec.name,
        "family": spec.family,
        "paper": spec.paper,
        "default_input": spec.default_input,
        "min_input": spec.min_input,
        "num_classes": spec.num_classes,
        "params": spec.params,
        "arguments": spec.arguments,
        "presets": spec.presets,
        "width": spec.width,
    }


def markdown_table():
    """The README's model table, generated from the registry."""
    rows = ["| name | family | parameters | default input | paper |",
            "|---|---|---:|---|---|"]
    for name in list_models():
        s = _REGISTRY[name]
        rows.append(f"| `{name}` | {s.family} | {s.params:,} | {s.default_input} | {s.paper} |")
    return "\n".join(rows)
