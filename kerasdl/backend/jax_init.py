"""JAX: weight initializers compiled for a short compilation, zeros and ones made on the host.

Keras draws every new weight's initial values eagerly, and on JAX each draw of a new
shape compiles the random sampler anew: 0.13-0.47 s each on a CPU at XLA's default
optimization level, so that building a ResNet-18 took 3.9 s on JAX against 0.4 s on
PyTorch, and a KerasTuner trial, which builds a model of new shapes, spent a quarter of
its time there. Its patches compile Keras's `normal`, `uniform` and `truncated_normal`
samplers, when called with a concrete seed, at XLA's optimization level 0 (about 0.08 s;
ResNet-18 builds in 1.7 s): the random bits are the same, and the floats made from them
equal Keras's within rounding (a few in a hundred differ in the last bit, the unfused
multiply-add of scaling them); they are drawn once per weight, so the sampler's own speed
matters little. Draws inside a traced function are Keras's own.

A sampler is compiled per shape and dtype, with means, deviations and bounds as
arguments (a Glorot bound differs with every shape). Up to 2**16 values, a weight is the
first values of a flat draw of the next power of two, so that one compiled sampler serves
every size up to it: the trials of a KerasTuner search, which build models of new shapes,
soon find their samplers compiled (an 8-trial search of the MLP: 9 compilations, 0.5 s,
instead of 24, 1.7 s). JAX's partitionable threefry (its default) makes each value a
function of the key and of the value's index alone, so the values are those of the exact
shape; with another generator, or `jax_threefry_partitionable` off, every shape is drawn
as it is. Above 2**16 values, drawing up to twice as many at level 0 costs more than a
compilation (ResNet-18 took 2.6 s to build with the flat draws up to 2**22).

The `Zeros` and `Ones` initializers (biases, normalization, an optimizer's slots, a
metric's totals) compile a broadcast for every new shape too, 0.02 s each; on a CPU they
are filled by NumPy and handed to JAX: Adam's slots for ResNet-18 are made in 0.06-0.11 s
instead of 0.6, DenseNet-121's in 0.15 instead of 1.04. The values are the same.
"""

import functools
import math

import jax
import numpy as np
from keras.src.backend import standardize_dtype
from keras.src.backend.jax import random as keras_random
from keras.src.initializers import constant_initializers

from kerasdl.backend.jax_conv import cpu_compiles_with
from kerasdl.backend.patching import Patch

FAST_COMPILATION = {"xla_backend_optimization_level": 0}
# Keras's samplers, with the signatures these patches were written for
SAMPLERS = {"normal": "(shape, mean=0.0, stddev=1.0, dtype=None, seed=None)",
            "uniform": "(shape, minval=0.0, maxval=1.0, dtype=None, seed=None)",
            "truncated_normal": "(shape, mean=0.0, stddev=1.0, dtype=None, seed=None)"}
LARGEST_PREFIX_DRAW = 2**16  # values; above it the exact shape: its draw outweighs a compile


def _filled_on_the_host(fill):
    def __call__(self, shape, dtype=None):
        return jax.device_put(fill(tuple(shape), jax.numpy.dtype(standardize_dtype(dtype))))

    return __call__


def _compiled_quickly(sample):
    # compiled per shape and dtype; means, deviations and bounds are arguments
    compiled = jax.jit(lambda key, shape, dtype, numbers: sample(shape, seed=key, dtype=dtype,
                                                                 **numbers),
                       static_argnums=(1, 2), compiler_options=FAST_COMPILATION)

    @functools.wraps(sample)
    def wrapper(shape, *args, seed=None, dtype=None, **numbers):
        key = keras_random.jax_draw_seed(seed)  # advances a SeedGenerator: outside the jit
        try:
            static = tuple(shape)
            hash((static, dtype))
        except TypeError:  # a shape that is an array
            static = None
        if args or static is None or isinstance(key, jax.core.Tracer):
            return sample(shape, *args, seed=key, dtype=dtype, **numbers)
        size = math.prod(static)
        if size > LARGEST_PREFIX_DRAW or not _values_depend_on_index_alone():
            return compiled(key, static, dtype, numbers)
        flat = compiled(key, (1 << (size - 1).bit_length(),), dtype, numbers)
        return jax.device_put(np.asarray(flat)[:size].reshape(static))

    wrapper.compiled = compiled
    return wrapper


def _values_depend_on_index_alone():
    return (jax.config.jax_default_prng_impl == "threefry2x32"
            and jax.config.jax_threefry_partitionable)


def _on_a_cpu_that_compiles_quickly():
    # measured on a CPU; a GPU's compilations and fills are other costs
    return cpu_compiles_with(tuple(FAST_COMPILATION.items()))


PATCHES = [Patch(keras_random, name, _compiled_quickly, wrap=True, signature=signature,
                 applies=_on_a_cpu_that_compiles_quickly, name=f"jax_init ({name})")
           for name, signature in SAMPLERS.items()]
PATCHES += [Patch(initializer, "__call__", _filled_on_the_host(fill),
                  applies=_on_a_cpu_that_compiles_quickly, name=f"jax_init ({initializer.__name__})")
            for initializer, fill in ((constant_initializers.Zeros, np.zeros),
                                      (constant_initializers.Ones, np.ones))]
