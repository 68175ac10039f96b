"""Argument checks shared by every builder and loader.

Each check raises a `TypeError` (wrong kind of value) or `ValueError` (right kind,
wrong value) whose message names the argument, quotes the value received and says
what would work, so that a bad call never reaches a backend traceback.
"""

import difflib
import numbers


def closest(value, choices):
    """A ' Did you mean ...?' hint naming the closest of `choices`, or ''."""
    matches = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3)
    return f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {list(choices)}; received {name}={value!r}."
            + closest(value, [c for c in choices if c is not None])
        )
    return value


def check_int(value, name, minimum=1):
    """An integer >= `minimum` (booleans and floats are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an integer; received {name}={value!r} "
            f"({type(value).__name__})."
        )
    if value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; received {name}={value!r}.")
    return int(value)


def check_int_tuple(values, name, minimum=1):
    """A non-empty tuple/list of integers >= `minimum`, e.g. layer widths."""
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = (values,)
    if not isinstance(values, (tuple, list)) or not values:
        raise TypeError(
            f"`{name}` must be a non-empty tuple of integers; received {name}={values!r}."
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < minimum:
            raise TypeError(
                f"`{name}` must hold integers >= {minimum}; received {name}={values!r} "
                f"(offending entry {v!r})."
            )
    return tuple(int(v) for v in values)


def check_float(value, name, low, high, *, low_inclusive=True, high_inclusive=False):
    """A real number in the interval [low, high) (bounds configurable)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number; received {name}={value!r}.")
    ok_low = value >= low if low_inclusive else value > low
    ok_high = value <= high if high_inclusive else value < high
    if not (ok_low and ok_high):
        interval = f"{'[' if low_inclusive else '('}{low}, {high}{']' if high_inclusive else ')'}"
        raise ValueError(f"`{name}` must be in {interval}; received {name}={value!r}.")
    return float(value)


def check_activation(value, name, allow_none=True):
    """A Keras activation identifier (string or callable)."""
    import keras

    if value is None and allow_none:
        return None
    if callable(value):
        return value
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        known = [
            "relu", "tanh", "sigmoid", "softmax", "leaky_relu", "elu", "gelu", "selu",
            "swish", "linear",
        ]
        raise ValueError(
            f"`{name}` must be a Keras activation such as {known}"
            f"{' or None' if allow_none else ''}; received {name}={value!r}."
            + closest(value, known)
        ) from None
    return value


def check_input_shape(input_shape, default, *, model, min_size, hint=""):
    """Resolve and check an image `input_shape` of (height, width, channels).

    Args:
        input_shape: what the caller passed, or None for `default`.
        default: the paper's input shape.
        model: the model name, for the message.
        min_size: smallest height and width the architecture can take.
        hint: appended to the too-small message (e.g. "or use stem='small'").
    """
    if input_shape is None:
        return tuple(default)
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(
            f"`input_shape` must be a tuple (height, width, channels); "
            f"received input_shape={input_shape!r}."
        )
    if len(input_shape) != 3:
        raise ValueError(
            f"`input_shape` for {model} must have 3 dimensions (height, width, channels); "
            f"received input_shape={tuple(input_shape)!r} with {len(input_shape)}. "
            f"For grayscale images add a channel axis, e.g. {tuple(input_shape) + (1,)!r}."
        )
    for v in input_shape:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(
                f"`input_shape` must hold positive integers; received "
                f"input_shape={tuple(input_shape)!r}."
            )
    height, width, _ = input_shape
    if min(height, width) < min_size:
        raise ValueError(
            f"`input_shape`={tuple(input_shape)!r} is too small for {model}: height and "
            f"width must be at least {min_size}{hint}."
        )
    return tuple(int(v) for v in input_shape)


def check_stem_input(stem, input_shape, default, *, model, min_sizes):
    """Check `stem` ("imagenet" or "small") and resolve `input_shape` against its minimum.

    Args:
        min_sizes: ``(imagenet_minimum, small_minimum)`` height and width.
    """
    check_choice(stem, "stem", ("imagenet", "small"))
    imagenet_min, small_min = min_sizes
    if stem == "imagenet":
        return check_input_shape(input_shape, default, model=model, min_size=imagenet_min,
                                 hint=f", or use stem='small' (minimum {small_min})")
    return check_input_shape(input_shape, default, model=model, min_size=small_min)


def check_heads(d_model, num_heads):
    """Attention heads that divide the model width."""
    check_int(d_model, "d_model")
    check_int(num_heads, "num_heads")
    if d_model % num_heads:
        raise ValueError(
            f"`d_model`={d_model} must be divisible by `num_heads`={num_heads} (each head gets "
            f"d_model / num_heads dimensions); e.g. num_heads in "
            f"{[h for h in range(1, min(d_model, 16) + 1) if d_model % h == 0]}."
        )


def check_sequence_input(input_shape, vocab_size, model):
    """`input_shape` is (length,) of token ids with a `vocab_size`, else (length, features)."""
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"`input_shape` must be a tuple; received input_shape={input_shape!r}.")
    want = 1 if vocab_size is not None else 2
    if len(input_shape) != want:
        what = ("(length,) of token ids, since vocab_size is set" if want == 1
                else "(length, features); for token ids pass vocab_size and input_shape=(length,)")
        raise ValueError(f"`input_shape` for {model} must be {what}; received "
                         f"input_shape={tuple(input_shape)!r}.")
    for v in input_shape:
        if v is not None:
            check_int(v, "input_shape entries")
    return tuple(input_shape)
