"""Recurrent networks: SimpleRNN, LSTM, GRU, bidirectional and stacked, one builder."""

import keras
from keras import layers

from kerasdl._checks import (check_choice, check_float, check_int, check_int_tuple,
                             check_sequence_input)
from kerasdl.blocks import classifier_builder, finish
from kerasdl.registry import register

CELLS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def recurrent_layer(cell, units, *, bidirectional=False, name, **kwargs):
    """One `cell` layer ("simple_rnn", "lstm", "gru"), optionally under `Bidirectional`."""
    check_choice(cell, "cell", tuple(CELLS))
    if bidirectional:
        return layers.Bidirectional(CELLS[cell](units, **kwargs), name=name)
    return CELLS[cell](units, name=name, **kwargs)


@classifier_builder
def rnn(input_shape=(100, 2), num_classes=1, include_top=True, classifier_activation=None,
        dropout=0.0, name="rnn", cell="lstm", units=(128,), bidirectional=False,
        recurrent_dropout=0.0, return_sequences=False, vocab_size=None, embed_dim=64):
    """A stack of recurrent layers with a dense output: many-to-one or many-to-many.

    With `vocab_size`, inputs are padded token ids (0 = padding) that go through an
    embedding with ``mask_zero=True``: padded steps are skipped by every recurrent layer.

    Args:
        input_shape: (length, features), or (length,) token ids with `vocab_size`;
            length may be None.
        num_classes: output units (1 for scalar regression).
        include_top: if False, return the last recurrent layer's output.
        classifier_activation: None for regression (linear), "softmax" to classify.
        dropout: a Dropout layer after each recurrent layer (the textbook stacked
            RNN + Dropout).
        cell: "simple_rnn", "lstm" or "gru".
        units: width of each stacked recurrent layer.
        bidirectional: wrap every recurrent layer in `Bidirectional`.
        recurrent_dropout: dropout on the recurrent state (Gal & Ghahramani, 2016).
        return_sequences: many-to-many, an output at every step.
        vocab_size: number of token ids, for token inputs.
        embed_dim: embedding width, for token inputs.
        (others): as in every kerasdl builder.

    Returns:
        A `keras.Model`.

    Example:
        >>> model = kerasdl.build("lstm", input_shape=(100, 2), num_classes=1)  # adding problem
    """
    check_choice(cell, "cell", tuple(CELLS))
    units = check_int_tuple(units, "units")
    check_float(recurrent_dropout, "recurrent_dropout", 0.0, 1.0)
    if vocab_size is not None:
        check_int(vocab_size, "vocab_size")
    input_shape = check_sequence_input(input_shape, vocab_size, name)

    inputs = keras.Input(shape=input_shape, dtype="int32" if vocab_size else "float32",
                         name="inputs")
    x = inputs
    if vocab_size:
        x = layers.Embedding(vocab_size, check_int(embed_dim, "embed_dim"), mask_zero=True,
                             name="embedding")(x)
    for i, width in enumerate(units, start=1):
        sequences = return_sequences or i < len(units)
        x = recurrent_layer(cell, width, bidirectional=bidirectional, name=f"rnn{i}",
                            return_sequences=sequences, recurrent_dropout=recurrent_dropout)(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i}")(x)
    if include_top:
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return finish(inputs, x, name=name)


SEQUENCE = dict(input_shape=(8, 2), num_classes=3, classifier_activation="softmax", units=(16,))
ADDING = dict(dataset="adding", epochs=30, batch_size=64, lr=1e-3)
for _name, _cell, _bi, _paper, _params in (
    ("simple_rnn", "simple_rnn", False, "Elman 1990, Finding structure in time", 16_897),
    ("lstm", "lstm", False, "Hochreiter & Schmidhuber 1997, Long short-term memory", 67_201),
    ("gru", "gru", False, "Cho et al. 2014, Learning phrase representations using RNN "
     "encoder-decoder", 50_817),
    ("bilstm", "lstm", True, "Schuster & Paliwal 1997, Bidirectional recurrent neural networks; "
     "Graves & Schmidhuber 2005", 134_401),
    ("bigru", "gru", True, "Schuster & Paliwal 1997, Bidirectional recurrent neural networks "
     "(GRU cells)", 101_633),
):
    register(_name, rnn, family="recurrent", paper=_paper, default_input=(100, 2),
             min_input=(1, 1), num_classes=1, params=_params,
             test_kwargs=SEQUENCE, train=ADDING, fixed=dict(cell=_cell, bidirectional=_bi),
             width=("units", "embed_dim"))
