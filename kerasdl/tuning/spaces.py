"""Search spaces: what each model family lets KerasTuner vary.

Every family declares learning rate (log scale), dropout and width; the width is
translated into the knobs its registration names (`ModelSpec.width`: a
`width_multiplier`, the widths of `filters` and `units`, a `growth_rate`, a Transformer's
`d_model` and `ff_dim`, an `embed_dim`, or the `hidden_units` of an MLP, whose depth is
searched too). Models without dropout
(Word2Vec) search learning rate and width. Architectures always come from `kerasdl.build`: nothing here copies one.
"""

import inspect
import numbers

from kerasdl.blocks import scaled

# Default ranges; a search can narrow or widen any of them.
DEFAULT_RANGES = {"lr": (1e-4, 1e-2), "dropout": (0.0, 0.5), "width": (0.5, 2.0),
                  "depth": (1, 3)}
LARGE_MODEL_WIDTH = (0.125, 0.5)  # for models above a million parameters


def check_ranges(ranges):
    """Merge `ranges` into the defaults; each must be a non-empty (low, high) pair."""
    unknown = sorted(set(ranges or {}) - set(DEFAULT_RANGES))
    if unknown:
        raise ValueError(f"Unknown search range(s) {unknown}; searchable: {sorted(DEFAULT_RANGES)}.")
    merged = dict(DEFAULT_RANGES)
    for key, value in (ranges or {}).items():
        if (not isinstance(value, (tuple, list)) or len(value) != 2
                or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value)):
            raise TypeError(f"Range `{key}` must be a pair (low, high); received {key}={value!r}.")
        low, high = value
        if not low < high:
            raise ValueError(
                f"Range `{key}`=({low}, {high}) is empty or inverted: low must be below high, "
                f"e.g. {key}={DEFAULT_RANGES[key]}."
            )
        if key == "lr" and low <= 0:
            raise ValueError(f"Range `lr`=({low}, {high}) must be positive (it is searched on a log scale).")
        if key == "dropout" and (low < 0 or high >= 1):
            raise ValueError(f"Range `dropout`=({low}, {high}) must lie in [0, 1).")
        merged[key] = (low, high)
    return merged


def declare(hp, spec, ranges, explicit=()):
    """Declare the hyperparameters of model `spec` on `hp`.

    Args:
        hp: a `keras_tuner.HyperParameters`.
        spec: the model's `kerasdl.registry.ModelSpec`.
        ranges: the output of `check_ranges`.
        explicit: range names the user set (others may be adapted to the model).

    Returns:
        ``(build_kwargs, learning_rate)``.
    """
    lr = hp.Float("lr", *ranges["lr"], sampling="log")
    kwargs = {}
    if "dropout" in spec.arguments:
        kwargs["dropout"] = hp.Float("dropout", *ranges["dropout"], step=0.1)
    width_range = ranges["width"]
    if "width" not in explicit and spec.params > 1_000_000:
        width_range = LARGE_MODEL_WIDTH
    defaults = {n: p.default for n, p in inspect.signature(spec.builder).parameters.items()}
    if "hidden_units" in spec.width:
        depth = hp.Int("depth", *(int(v) for v in ranges["depth"]))
        units = hp.Int("units", scaled(64, width_range[0]), scaled(64, width_range[1]),
                       sampling="log")
        kwargs["hidden_units"] = (units,) * depth
        return kwargs, lr
    if not spec.width:
        return kwargs, lr
    width = hp.Float("width", *width_range, sampling="log")
    for knob in spec.width:
        default = defaults[knob]
        if knob == "width_multiplier":
            kwargs[knob] = width
        elif knob == "d_model":  # a multiple of 8, so that 1, 2, 4 or 8 heads divide it
            kwargs[knob] = 8 * scaled(default / 8, width)
        else:
            kwargs[knob] = (tuple(scaled(v, width) for v in default)
                            if isinstance(default, tuple) else scaled(default, width))
    return kwargs, lr
