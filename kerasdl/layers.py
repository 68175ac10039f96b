"""Custom layers, registered serializable under the "kerasdl" package."""

import keras
from keras import ops

from kerasdl._checks import check_heads, check_int


@keras.saving.register_keras_serializable(package="kerasdl")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalization across channels (Krizhevsky et al., 2012).

    ``b_c = a_c / (k + alpha * sum_{c' in window(c)} a_{c'}^2) ** beta``, the paper's formula,
    over a window of ``2 * depth_radius + 1`` neighbouring channels.

    Args:
        depth_radius: half-width of the channel window (AlexNet: 2, a window of 5).
        bias: k (AlexNet: 2).
        alpha: alpha (AlexNet: 1e-4).
        beta: beta (AlexNet: 0.75).
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = depth_radius
        self.bias = bias
        self.alpha = alpha
        self.beta = beta

    def call(self, inputs):
        r = self.depth_radius
        squared = ops.pad(ops.square(inputs), [[0, 0]] * (len(inputs.shape) - 1) + [[r, r]])
        channels = inputs.shape[-1]
        window = sum(squared[..., i : i + channels] for i in range(2 * r + 1))
        return inputs / ops.power(self.bias + self.alpha * window, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius,
                "bias": self.bias, "alpha": self.alpha, "beta": self.beta}


@keras.saving.register_keras_serializable(package="kerasdl")
class PaddingMask(keras.layers.Layer):
    """True where a token sequence holds a real token, False where it holds padding (0)."""

    def call(self, tokens):
        return ops.not_equal(tokens, 0)

    def compute_output_spec(self, tokens):
        return keras.KerasTensor(tokens.shape, dtype="bool")


def sinusoids(positions, dim):
    """The sinusoidal table of Vaswani et al. at `positions` (a vector, e.g. token
    positions or diffusion timesteps): ``[p, 2i] = sin(p / 10000^(2i/dim))``,
    ``[p, 2i+1] = cos(p / 10000^(2i/dim))``, shape (len(positions), dim)."""
    positions = ops.cast(positions, "float32")[:, None]
    rates = ops.power(10000.0, -ops.cast(ops.arange(0, dim, 2), "float32") / dim)
    angles = positions * rates[None, :]
    return ops.reshape(ops.stack([ops.sin(angles), ops.cos(angles)], axis=-1),
                       (-1, 2 * angles.shape[-1]))[:, :dim]


@keras.saving.register_keras_serializable(package="kerasdl")
class PositionalEmbedding(keras.layers.Layer):
    """Token embedding plus the fixed sinusoidal position table (Vaswani et al., 2017).

    ``PE[p, 2i] = sin(p / 10000^(2i/d))``, ``PE[p, 2i+1] = cos(p / 10000^(2i/d))``; token
    embeddings are scaled by sqrt(d_model), as in the paper.

    Args:
        vocab_size: number of token ids (0 is padding).
        max_length: rows of the position table; longer sequences are refused.
        d_model: embedding width.
    """

    def __init__(self, vocab_size, max_length, d_model, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = check_int(vocab_size, "vocab_size")
        self.max_length = check_int(max_length, "max_length")
        self.d_model = check_int(d_model, "d_model")
        self.tokens = keras.layers.Embedding(vocab_size, d_model, name="token_embedding")

    def build(self, input_shape):
        self._check_length(input_shape[-1])
        self.tokens.build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.d_model)

    def _check_length(self, length):
        if isinstance(length, int) and length > self.max_length:
            raise ValueError(
                f"Sequence length {length} is longer than the positional table "
                f"(max_length={self.max_length}); build the model with max_length >= {length} "
                f"or truncate the sequences."
            )

    def call(self, tokens):
        length = ops.shape(tokens)[-1]
        self._check_length(length)
        # arange(0, n), not arange(n): jax2onnx's arange needs an explicit stop.
        table = sinusoids(ops.arange(0, length), self.d_model)
        x = self.tokens(tokens) * ops.sqrt(ops.cast(self.d_model, self.compute_dtype))
        return x + ops.cast(table, x.dtype)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size,
                "max_length": self.max_length, "d_model": self.d_model}


@keras.saving.register_keras_serializable(package="kerasdl")
class TimestepEmbedding(keras.layers.Layer):
    """Diffusion timesteps, integers of shape (N,) or (N, 1), as their sinusoids (N, dim):
    DDPM's embedding of t (Ho et al., 2020, after the Transformer's positions)."""

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = check_int(dim, "dim")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def call(self, t):
        return ops.cast(sinusoids(ops.reshape(t, (-1,)), self.dim), self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim}


@keras.saving.register_keras_serializable(package="kerasdl")
class TransformerBlock(keras.layers.Layer):
    """A post-norm Transformer block (Vaswani et al., 2017): encoder or decoder.

    Encoder: self-attention, then a position-wise feed-forward net. Decoder
    (``causal=True``): causal self-attention, cross-attention over an encoder's output
    (``context``), then the feed-forward net. Each sub-layer is wrapped as
    ``LayerNorm(x + Dropout(sublayer(x)))``.

    Call arguments:
        x: (batch, length, d_model).
        padding_mask: (batch, length) booleans, False at padding (keys are masked).
        context: the encoder's output (decoder only), (batch, source_length, d_model).
        context_mask: (batch, source_length) booleans for `context`.

    Args:
        d_model: width of the block's input and output.
        num_heads: attention heads; must divide `d_model`.
        ff_dim: hidden width of the feed-forward net.
        dropout: dropout rate on every sub-layer's output and on the attention weights.
        causal: build a decoder block (causal self-attention and cross-attention).
    """

    def __init__(self, d_model, num_heads, ff_dim, dropout=0.0, causal=False, **kwargs):
        super().__init__(**kwargs)
        check_heads(d_model, num_heads)
        self.d_model, self.num_heads, self.ff_dim = d_model, num_heads, ff_dim
        self.dropout, self.causal = dropout, causal
        attention = dict(num_heads=num_heads, key_dim=d_model // num_heads, dropout=dropout)
        self.self_attention = keras.layers.MultiHeadAttention(**attention, name="self_attention")
        self.cross_attention = (keras.layers.MultiHeadAttention(**attention, name="cross_attention")
                                if causal else None)
        self.ff1 = keras.layers.Dense(ff_dim, activation="relu", name="ff1")
        self.ff2 = keras.layers.Dense(d_model, name="ff2")
        self.norms = [keras.layers.LayerNormalization(epsilon=1e-5, name=f"norm{i}")
                      for i in range(3 if causal else 2)]
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        self._check_width(input_shape, "x")
        for attention in (self.self_attention, self.cross_attention):
            if attention is not None:  # the context has the same width (checked in call)
                attention.build(input_shape, input_shape)
        self.ff1.build(input_shape)
        self.ff2.build((*input_shape[:-1], self.ff_dim))
        for norm in self.norms:
            norm.build(input_shape)

    def _check_width(self, shape, what):
        if shape[-1] != self.d_model:
            raise ValueError(
                f"TransformerBlock `{what}` has last dimension {shape[-1]} but d_model is "
                f"{self.d_model}: encoder and decoder widths must match (shape {tuple(shape)})."
            )

    def call(self, x, context=None, padding_mask=None, context_mask=None, training=None):
        self._check_width(x.shape, "x")
        if self.causal:
            if context is None:
                raise ValueError("A decoder TransformerBlock (causal=True) needs `context`, "
                                 "the encoder's output.")
            self._check_width(context.shape, "context")
        y = self.self_attention(x, x, query_mask=padding_mask, value_mask=padding_mask,
                                use_causal_mask=self.causal, training=training)
        x = self.norms[0](x + self.drop(y, training=training))
        if self.causal:
            y = self.cross_attention(x, context, query_mask=padding_mask,
                                     value_mask=context_mask, training=training)
            x = self.norms[1](x + self.drop(y, training=training))
        y = self.ff2(self.drop(self.ff1(x), training=training))
        return self.norms[-1](x + self.drop(y, training=training))

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model, "num_heads": self.num_heads,
                "ff_dim": self.ff_dim, "dropout": self.dropout, "causal": self.causal}
