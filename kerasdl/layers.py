"""Custom layers, registered serializable under the "kerasdl" package."""

import keras
from keras import ops


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
