"""The input pipelines Keras builds on the TensorFlow backend, without tf.data's autotuning.

`fit` on arrays, a `keras.utils.PyDataset` (as `kerasdl.training.Batches`) or a Python
generator goes through a `tf.data` pipeline that Keras builds with autotuned parallelism
and prefetching. tf.data's autotuning runs a model of the pipeline on a background thread
and resizes its thread pools as it goes; on a 2-core CPU that takes a core from the
training step in about half the epochs, at random (ResNet-18: 1026 against 720 ms per
step; a bidirectional LSTM 130 against 72; CPU use 105-137% against 190%). Its patch
turns autotuning off in those pipelines: parallel work then uses one thread per core and
prefetching keeps its legacy, self-sizing buffer. A `tf.data.Dataset` the user hands to
`fit` keeps its own options.
"""

import functools

import tensorflow as tf
from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter
from keras.src.trainers.data_adapters.generator_data_adapter import GeneratorDataAdapter
from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

from kerasdl.backend.patching import Patch

ADAPTERS = (ArrayDataAdapter, GeneratorDataAdapter, PyDatasetAdapter)


def _without_autotuning(get_tf_dataset):
    @functools.wraps(get_tf_dataset)
    def wrapper(self):
        options = tf.data.Options()
        options.autotune.enabled = False
        return get_tf_dataset(self).with_options(options)

    return wrapper


def _on_a_cpu():
    # measured on a 2-core CPU; a GPU's input pipeline has the CPU's cores to itself
    return not tf.config.list_physical_devices("GPU")


PATCHES = [Patch(adapter, "get_tf_dataset", _without_autotuning, wrap=True,
                 signature="(self)", applies=_on_a_cpu, name=f"tf_data ({adapter.__name__})")
           for adapter in ADAPTERS]
