"""Perceptron / multilayer perceptron."""

import keras
from keras import layers

from kerasdl._checks import check_choice, check_int_tuple
from kerasdl.blocks import classifier_builder, finish
from kerasdl.registry import register

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu")


@classifier_builder
def mlp(input_shape=(2,), num_classes=2, include_top=True, pooling=None,
        classifier_activation="softmax", dropout=0.0, name="mlp", hidden_units=(16,),
        activation="relu"):
    """A fully connected network of any depth and width (Rumelhart et al., 1986).

    Inputs of any rank are flattened. Hidden layers use He initialization for
    ReLU-family activations and Glorot (Xavier) initialization for tanh and sigmoid.

    Args:
        input_shape: shape of one example, e.g. (2,) for make_moons or (28, 28, 1).
        include_top: if False, return the last hidden layer.
        pooling: must be None (an MLP has no feature map to pool).
        dropout: dropout rate after each hidden layer.
        hidden_units: width of each hidden layer; () gives a perceptron.
        activation: "relu", "tanh", "sigmoid" or "leaky_relu".
        (others): as in every kerasdl builder.

    Returns:
        A `keras.Model`.

    Example:
        >>> model = kerasdl.build("mlp", input_shape=(2,), hidden_units=(16,))  # 2-16-2
    """
    check_choice(pooling, "pooling", (None,))
    check_choice(activation, "activation", ACTIVATIONS)
    hidden_units = check_int_tuple(hidden_units, "hidden_units") if hidden_units else ()
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise TypeError(f"`input_shape` must be a non-empty tuple; received input_shape={input_shape!r}.")
    initializer = "glorot_uniform" if activation in ("tanh", "sigmoid") else "he_normal"

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units, start=1):
        x = layers.Dense(units, activation=activation, kernel_initializer=initializer,
                         name=f"dense{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i}")(x)
    if include_top:
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return finish(inputs, x, name=name)


register(
    "mlp", mlp, family="feedforward",
    paper="Rumelhart, Hinton & Williams 1986, Learning representations by back-propagating errors",
    default_input=(2,), min_input=(1,), num_classes=2, params=82,
    test_kwargs=dict(input_shape=(2,), num_classes=2, hidden_units=(16,)),
    train=dict(dataset="moons", epochs=100, batch_size=32, lr=1e-2, augment=False),
    width=("hidden_units",),
)
