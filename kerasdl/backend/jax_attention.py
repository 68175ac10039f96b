"""Dot-product attention in float16 on JAX's CPU backend, computed in float32.

Under ``keras.mixed_precision.set_global_policy("mixed_float16")`` Keras's
`MultiHeadAttention` (without dropout) calls ``jax.nn.dot_product_attention``, which asks
XLA for float16 products summed in float32 (``DotAlgorithmPreset.F16_F16_F32``). XLA's CPU
backend does not have it and fails when the training step compiles ("The precision
'F16_F16_F32' is not supported by dot_general on CPU"; JAX's own fallback catches the
error only when it comes while tracing). On a CPU, its patch makes Keras's JAX
``dot_product_attention`` take float16 queries, keys and values up to float32, attend,
and give the result back in float16: what the preset asks for, float32 sums of the
float16 values. Everything else is Keras's own.
"""

import jax
import jax.numpy as jnp
from keras.src.backend.jax import nn as keras_nn

from kerasdl.backend.patching import Patch


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """Keras's JAX ``dot_product_attention``; float16 attention computed in float32."""
    kerass = PATCHES[0].original
    if not all(jnp.asarray(t).dtype == jnp.float16 for t in (query, key, value)):
        return kerass(query, key, value, bias=bias, mask=mask, scale=scale,
                      is_causal=is_causal, flash_attention=flash_attention,
                      attn_logits_soft_cap=attn_logits_soft_cap)
    query, key, value = (jnp.asarray(t, jnp.float32) for t in (query, key, value))
    bias = None if bias is None else jnp.asarray(bias, jnp.float32)
    outputs = kerass(query, key, value, bias=bias, mask=mask, scale=scale,
                     is_causal=is_causal, flash_attention=flash_attention,
                     attn_logits_soft_cap=attn_logits_soft_cap)
    return outputs.astype(jnp.float16)


def _on_a_cpu():
    # GPUs have the float16 preset
    return jax.default_backend() == "cpu"


PATCHES = [Patch(keras_nn, "dot_product_attention", dot_product_attention, applies=_on_a_cpu,
                 name="jax_attention (float16 on a CPU)")]
