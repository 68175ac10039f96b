"""Losses Keras does not offer."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasdl")
class SparseCategoricalCrossentropy(keras.losses.Loss):
    """Cross-entropy of probabilities against integer labels, with label smoothing
    (Szegedy et al., 2016), which Keras offers only for one-hot labels: the labels
    become one-hot and go through `keras.losses.categorical_crossentropy`."""

    def __init__(self, label_smoothing=0.0, name="sparse_categorical_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        if len(y_true.shape) == len(y_pred.shape):
            y_true = ops.squeeze(y_true, axis=-1)
        one_hot = ops.one_hot(y_true, ops.shape(y_pred)[-1], dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(one_hot, y_pred,
                                                     label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}
