"""The model registry: every architecture is registered once, by name, with its metadata.

Every module of `kerasdl.models` whose name does not start with "_" is a family: it is
imported on first use and calls `register(...)` for each model it defines, so adding a
model is one file. This module only records and answers: `list_models`, `model_info`
and `get_spec` (re-exported as `kerasdl.list_models`, ...) neither build a model nor
change Keras; `kerasdl.building` builds and loads.
"""

import dataclasses
import fnmatch
import importlib
import inspect
import os
import pkgutil

from kerasdl._checks import closest
from kerasdl.recipe import Recipe
from kerasdl.testing import EXAMPLES

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

    def build(self, **kwargs):
        """The builder's model with this variant's fixed and preset arguments (no
        weights, no backend defaults: see `kerasdl.build`)."""
        return self.builder(**self.fixed, **{"name": self.name, **self.presets, **kwargs})


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
    if example is not None and example not in EXAMPLES:
        raise ValueError(f"{name}: example {example!r} must be one of {sorted(EXAMPLES)}.")
    _REGISTRY[name] = ModelSpec(
        name=name, family=family, builder=builder, fixed=dict(fixed or {}),
        presets=dict(presets or {}), paper=paper, default_input=tuple(default_input),
        min_input=tuple(min_input), num_classes=num_classes, params=params,
        test_kwargs=test_kwargs, train=Recipe(**{"augment": True, **(train or {})}),
        width=tuple(width), example=example,
    )


def load_families():
    """Import every family module of `kerasdl.models` (each registers its models). The
    families sit above this module: they are found by name, as plug-ins, and imported
    on first use, as they import Keras."""
    for module in pkgutil.iter_modules([FAMILIES]):
        if not module.name.startswith("_"):
            importlib.import_module(f"kerasdl.models.{module.name}")


FAMILIES = os.path.join(os.path.dirname(__file__), "models")


def get_spec(name):
    """The `ModelSpec` registered under `name`; a ValueError naming close names if none."""
    load_families()
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ValueError(
            f"Unknown model name {name!r}." + closest(name, _REGISTRY)
            + f" Registered models: {sorted(_REGISTRY)}."
        )
    return _REGISTRY[name]


def list_models(pattern=None, family=None):
    """Sorted registered names, optionally filtered by a glob `pattern` and a `family`."""
    load_families()
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
