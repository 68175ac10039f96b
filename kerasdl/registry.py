"""The model registry: every architecture is registered once, by name, with its metadata.

Family modules call `register(...)` at import; `build`, `list_models` and `model_info`
are the public entry points (re-exported as `kerasdl.build`, ...).
"""

import dataclasses
import fnmatch
import importlib
import inspect

from kerasdl._checks import closest
from kerasdl.recipe import Recipe

_REGISTRY = {}
_FAMILY_MODULES = ("mlp", "cnn", "vgg", "googlenet", "resnet", "densenet", "recurrent",
                   "attention", "transformer", "word2vec", "autoencoder", "gan")


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model.

    Attributes:
        name: registered name, also the default Keras model name.
        family: "feedforward", "convolutional", "recurrent", "attention", "transformer",
            "embedding", "autoencoder" or "generative".
        builder: the family's generic builder function.
        fixed: keyword arguments this variant pins (e.g. ``depth=16`` for VGG-16).
        paper: the reference.
        default_input: the paper's input shape.
        min_input: the smallest input the default configuration accepts.
        num_classes: the paper's number of classes.
        params: trainable parameters at the paper's size (BN statistics excluded).
        test_kwargs: a small configuration the registry-wide tests build.
        train: the `kerasdl.recipe.Recipe` that `kerasdl train` follows by default
            (dataset, epochs, optimizer, schedule, ..., builder arguments under `model`).
    """

    name: str
    family: str
    builder: object
    fixed: dict
    paper: str
    default_input: tuple
    min_input: tuple
    num_classes: int
    params: int
    test_kwargs: dict
    train: Recipe

    @property
    def arguments(self):
        """Keyword arguments `build` accepts for this model."""
        names = inspect.signature(self.builder).parameters
        return tuple(n for n in names if n not in self.fixed)


def register(name, builder, *, family, paper, default_input, min_input, num_classes,
             params, test_kwargs, train=None, **fixed):
    """Register `builder` (with `fixed` arguments pinned) under `name`."""
    if name in _REGISTRY:
        raise ValueError(f"A model named {name!r} is already registered.")
    _REGISTRY[name] = ModelSpec(
        name=name, family=family, builder=builder, fixed=fixed, paper=paper,
        default_input=tuple(default_input), min_input=tuple(min_input),
        num_classes=num_classes, params=params, test_kwargs=test_kwargs,
        train=Recipe(**{"augment": True, **(train or {})}),
    )


def _load_families():
    for module in _FAMILY_MODULES:
        importlib.import_module(f"kerasdl.models.{module}")


def get_spec(name):
    """The `ModelSpec` registered under `name`; a ValueError naming close names if none."""
    _load_families()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"Unknown model name {name!r}." + closest(name, _REGISTRY)
            + f" Registered models: {sorted(_REGISTRY)}."
        )
    return _REGISTRY[name]


def build(name, **kwargs):
    """Build the registered model `name` as a functional `keras.Model`.

    Args:
        name: a name from `list_models()`, e.g. "resnet18".
        **kwargs: the builder's keyword arguments (`input_shape`, `num_classes`,
            `include_top`, `pooling`, `classifier_activation`, `dropout`, `name`, and
            the family's width knobs); see `model_info(name)["arguments"]`.

    Returns:
        A `keras.Model`.

    Example:
        >>> model = kerasdl.build("resnet18", input_shape=(32, 32, 3), num_classes=10,
        ...                       stem="small")
    """
    spec = get_spec(name)
    unknown = sorted(set(kwargs) - set(spec.arguments))
    if unknown:
        raise TypeError(
            f"build({name!r}) got unexpected keyword argument(s) {unknown}."
            + closest(unknown[0], spec.arguments)
            + f" {name} accepts: {list(spec.arguments)}."
        )
    kwargs.setdefault("name", name)
    return spec.builder(**spec.fixed, **kwargs)


def load_model(path, **kwargs):
    """`keras.saving.load_model` with every kerasdl layer, loss and model class (GAN,
    VAE, ...) registered, so that any kerasdl `.keras` file loads, on any backend."""
    import keras

    import kerasdl.training  # noqa: F401  (its label-smoothing loss)

    _load_families()
    return keras.saving.load_model(path, **kwargs)


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
    number of classes and trainable parameters at the paper's size, and the
    keyword arguments its builder accepts."""
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
    }


def markdown_table():
    """The README's model table, generated from the registry."""
    rows = ["| name | family | parameters | default input | paper |",
            "|---|---|---:|---|---|"]
    for name in list_models():
        s = _REGISTRY[name]
        rows.append(f"| `{name}` | {s.family} | {s.params:,} | {s.default_input} | {s.paper} |")
    return "\n".join(rows)
