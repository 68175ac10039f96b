"""Transformer (Vaswani et al., 2017): an encoder-only classifier and an encoder-decoder."""

import keras
from keras import layers

from kerasdl._checks import check_float, check_heads, check_int, check_sequence_input
from kerasdl.blocks import classifier_builder, finish
from kerasdl.layers import PaddingMask, PositionalEmbedding, TransformerBlock
from kerasdl.registry import register


def _check(input_shape, vocab_size, max_length, d_model, num_heads, ff_dim, num_layers,
           dropout, model):
    check_int(vocab_size, "vocab_size")
    check_heads(d_model, num_heads)
    check_int(ff_dim, "ff_dim")
    check_int(num_layers, "num_layers")
    check_float(dropout, "dropout", 0.0, 1.0)
    (length,) = check_sequence_input(input_shape, vocab_size, model)
    max_length = length if max_length is None else check_int(max_length, "max_length")
    if max_length is None:
        raise ValueError(f"{model} with a free sequence length (input_shape={input_shape!r}) "
                         f"needs `max_length`, the size of its positional table.")
    return (length,), max_length


def encoder(tokens, *, vocab_size, max_length, d_model, num_heads, ff_dim, num_layers,
            dropout, name="encoder"):
    """Embed `tokens` and run `num_layers` encoder blocks; returns (outputs, padding mask)."""
    mask = PaddingMask(name=f"{name}_mask")(tokens)
    x = PositionalEmbedding(vocab_size, max_length, d_model, name=f"{name}_embedding")(tokens)
    x = layers.Dropout(dropout, name=f"{name}_embedding_dropout")(x)
    for i in range(1, num_layers + 1):
        x = TransformerBlock(d_model, num_heads, ff_dim, dropout, name=f"{name}_block{i}")(
            x, padding_mask=mask)
    return x, mask


@classifier_builder
def transformer_classifier(input_shape=(256,), num_classes=2, include_top=True,
                           classifier_activation="softmax", dropout=0.1,
                           name="transformer_classifier", vocab_size=20000, max_length=None,
                           d_model=128, num_heads=4, ff_dim=256, num_layers=2):
    """An encoder-only Transformer over padded token ids, mean-pooled over real tokens.

    Args:
        input_shape: (length,) of token ids, 0 = padding; length may be None with
            `max_length`.
        vocab_size: number of token ids.
        max_length: rows of the positional table (default: the input length).
        d_model, num_heads, ff_dim, num_layers: the encoder's size (the paper's base
            model: 512, 8, 2048, 6).
        dropout: on embeddings, attention weights and every sub-layer.
        (others): as in every kerasdl builder.

    Example:
        >>> model = kerasdl.build("transformer_classifier", input_shape=(200,),
        ...                       vocab_size=20000, num_classes=2)
    """
    input_shape, max_length = _check(input_shape, vocab_size, max_length, d_model, num_heads,
                                     ff_dim, num_layers, dropout, name)
    tokens = keras.Input(shape=input_shape, dtype="int32", name="tokens")
    x, mask = encoder(tokens, vocab_size=vocab_size, max_length=max_length, d_model=d_model,
                      num_heads=num_heads, ff_dim=ff_dim, num_layers=num_layers,
                      dropout=dropout)
    x = layers.GlobalAveragePooling1D(name="avg_pool")(x, mask=mask)
    if include_top:
        x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    return finish(tokens, x, name=name)


def transformer_seq2seq(input_shape=(10,), num_classes=20, dropout=0.1,
                        name="transformer_seq2seq", vocab_size=20, max_length=None,
                        d_model=128, num_heads=4, ff_dim=256, num_layers=2):
    """An encoder-decoder Transformer trained with teacher forcing.

    The decoder's self-attention is causal (position t sees targets up to t) and its
    cross-attention ignores the source's padding. Decode with
    `kerasdl.sequences.greedy_decode`.

    Args:
        input_shape: (source_length,) of token ids, 0 = padding.
        num_classes: target vocabulary size.
        vocab_size: source vocabulary size.
        max_length: rows of both positional tables (default: the source length);
            target sequences may not be longer.
        d_model, num_heads, ff_dim, num_layers: size of the encoder and of the decoder.
        dropout: on embeddings, attention weights and every sub-layer.

    Returns:
        A `keras.Model` taking ``[source, target_in]`` and giving per-step probabilities.
    """
    check_int(num_classes, "num_classes")
    input_shape, max_length = _check(input_shape, vocab_size, max_length, d_model, num_heads,
                                     ff_dim, num_layers, dropout, name)
    source = keras.Input(shape=input_shape, dtype="int32", name="source")
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
    size = dict(d_model=d_model, num_heads=num_heads, ff_dim=ff_dim, num_layers=num_layers,
                dropout=dropout)
    context, context_mask = encoder(source, vocab_size=vocab_size, max_length=max_length,
                                    **size)
    mask = PaddingMask(name="decoder_mask")(target_in)
    y = PositionalEmbedding(num_classes, max_length, d_model, name="decoder_embedding")(
        target_in)
    y = layers.Dropout(dropout, name="decoder_embedding_dropout")(y)
    for i in range(1, num_layers + 1):
        y = TransformerBlock(d_model, num_heads, ff_dim, dropout, causal=True,
                             name=f"decoder_block{i}")(
            y, context=context, padding_mask=mask, context_mask=context_mask)
    probs = layers.Dense(num_classes, activation="softmax", name="predictions")(y)
    return finish([source, target_in], probs, name=name)


TINY = dict(vocab_size=7, d_model=8, num_heads=2, ff_dim=16, num_layers=1, dropout=0.0)
register(
    "transformer_classifier", transformer_classifier, family="transformer",
    paper="Vaswani et al. 2017, Attention is all you need (encoder only)",
    default_input=(256,), min_input=(1,), num_classes=2, params=2_825_218,
    test_kwargs=dict(TINY, input_shape=(6,), num_classes=3),
    train=dict(dataset="topics", epochs=10, batch_size=64, lr=1e-3, augment=False,
               model=dict(d_model=32, num_heads=4, ff_dim=64)),
    width=("d_model", "ff_dim"), example="topic_tokens",
)
register(
    "transformer_seq2seq", transformer_seq2seq, family="transformer",
    paper="Vaswani et al. 2017, Attention is all you need",
    default_input=(10,), min_input=(1,), num_classes=20, params=670_228,
    test_kwargs=dict(TINY, input_shape=(6,), num_classes=7),
    train=dict(dataset="reverse", epochs=30, batch_size=64, lr=1e-3, augment=False,
               model=dict(d_model=64, num_heads=4, ff_dim=128, dropout=0.0)),
    width=("d_model", "ff_dim"), example="reverse",
)
