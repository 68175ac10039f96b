"""Encoder-decoder RNN with additive (Bahdanau) or multiplicative (Luong) attention."""

import keras
from keras import layers

from kerasdl._checks import check_choice, check_float, check_int, check_sequence_input
from kerasdl.blocks import finish
from kerasdl.models.recurrent import CELLS, recurrent_layer
from kerasdl.registry import register

SCORES = ("bahdanau", "luong", "luong_general")


def attend(query, values, *, score, units, name, return_scores=False):
    """Attention of `query` (batch, T, d) over `values` (batch, S, d), Keras's layers.

    "bahdanau": ``v^T tanh(W1 q + W2 h)`` (Bahdanau et al., 2015) -- Keras's
    `AdditiveAttention` (its learned scale is ``v``) over Dense projections ``W1``, ``W2``.
    "luong": the dot score ``q . h``; "luong_general": ``q . W h`` (Luong et al., 2015) --
    Keras's `Attention`. Masks on `values` (padding) are honoured.

    Returns:
        The context vectors (batch, T, d), and the weights (batch, T, S) if `return_scores`.
    """
    check_choice(score, "attention", SCORES)
    if score == "bahdanau":
        q = layers.Dense(units, use_bias=False, name=f"{name}_query")(query)
        k = layers.Dense(units, use_bias=False, name=f"{name}_key")(values)
        attention = layers.AdditiveAttention(use_scale=True, name=name)
    else:
        q = query
        k = (layers.Dense(values.shape[-1], use_bias=False, name=f"{name}_key")(values)
             if score == "luong_general" else values)
        attention = layers.Attention(score_mode="dot", name=name)
    return attention([q, values, k], return_attention_scores=return_scores)


def seq2seq_attention(input_shape=(10,), num_classes=20, dropout=0.0, name="seq2seq_attention",
                      vocab_size=20, cell="gru", units=128, embed_dim=64, attention="bahdanau",
                      return_attention=False):
    """An RNN encoder-decoder with attention, trained with teacher forcing.

    The encoder reads the padded source tokens (0 = padding, masked); the decoder starts
    from the encoder's final state, reads the target shifted right (a start token first)
    and, at every step, attends over the encoder's outputs; the context and the decoder
    state go through a tanh layer and a softmax over the target vocabulary (Luong et al.'s
    attentional hidden state). Decode with `kerasdl.sequences.greedy_decode`.

    Args:
        input_shape: (source_length,); the target length is free.
        num_classes: target vocabulary size.
        dropout: dropout on the attentional hidden state.
        vocab_size: source vocabulary size.
        cell: "gru" or "lstm" (or "simple_rnn").
        units: encoder and decoder state width.
        embed_dim: token embedding width.
        attention: "bahdanau" (additive), "luong" (dot) or "luong_general" (bilinear).
        return_attention: also output the attention weights (batch, target, source),
            for plotting.

    Returns:
        A `keras.Model` taking ``[source, target_in]`` and giving per-step probabilities.

    Example:
        >>> model = kerasdl.build("seq2seq_attention", input_shape=(10,), vocab_size=20,
        ...                       num_classes=20, attention="luong")
    """
    check_int(num_classes, "num_classes")
    check_int(vocab_size, "vocab_size")
    check_int(units, "units")
    check_int(embed_dim, "embed_dim")
    check_float(dropout, "dropout", 0.0, 1.0)
    check_choice(cell, "cell", tuple(CELLS))
    check_choice(attention, "attention", SCORES)
    input_shape = check_sequence_input(input_shape, vocab_size, name)

    source = keras.Input(shape=input_shape, dtype="int32", name="source")
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
    x = layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="source_embedding")(source)
    encoded, *state = recurrent_layer(cell, units, name="encoder", return_sequences=True,
                                      return_state=True)(x)
    y = layers.Embedding(num_classes, embed_dim, name="target_embedding")(target_in)
    decoded = recurrent_layer(cell, units, name="decoder", return_sequences=True)(
        y, initial_state=state)
    context = attend(decoded, encoded, score=attention, units=units, name="attention",
                     return_scores=return_attention)
    if return_attention:
        context, weights = context
    h = layers.Concatenate(name="concat")([context, decoded])
    h = layers.Dense(units, activation="tanh", name="attentional")(h)
    if dropout:
        h = layers.Dropout(dropout, name="dropout")(h)
    probs = layers.Dense(num_classes, activation="softmax", name="predictions")(h)
    return finish([source, target_in], [probs, weights] if return_attention else probs,
                  name=name)


register(
    "seq2seq_attention", seq2seq_attention, family="attention",
    paper="Bahdanau, Cho & Bengio 2015; Luong, Pham & Manning 2015 (attention-based NMT)",
    default_input=(10,), min_input=(1,), num_classes=20, params=219_924,
    test_kwargs=dict(input_shape=(6,), num_classes=7, vocab_size=7, units=8, embed_dim=8),
    train=dict(dataset="reverse", epochs=30, batch_size=64, lr=3e-3, augment=False),
    width=("units", "embed_dim"), example="reverse",
)
