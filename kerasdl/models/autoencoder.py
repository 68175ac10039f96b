"""Autoencoders (dense, convolutional, denoising, sparse) and the variational autoencoder."""

import math

import keras
from keras import layers, ops

from kerasdl._checks import check_choice, check_float, check_int, check_int_tuple
from kerasdl.blocks import finish
from kerasdl.models._composite import Composite
from kerasdl.registry import register


def _check(input_shape, latent_dim, kind):
    check_choice(kind, "kind", ("dense", "conv"))
    check_int(latent_dim, "latent_dim")
    if not isinstance(input_shape, (tuple, list)) or (kind == "conv" and len(input_shape) != 3):
        want = "(height, width, channels)" if kind == "conv" else "a tuple"
        raise ValueError(f"`input_shape` for a {kind} autoencoder must be {want}; "
                         f"received input_shape={input_shape!r}.")
    input_shape = check_int_tuple(input_shape, "input_shape")
    if kind == "conv" and (input_shape[0] % 4 or input_shape[1] % 4):
        raise ValueError(f"`input_shape`={input_shape!r}: the convolutional decoder upsamples "
                         f"twice by 2, so height and width must be multiples of 4 (e.g. 28).")
    return input_shape


def encoder_layers(x, *, kind, units, filters, name="encoder"):
    """The shared encoder trunk: dense layers on the flattened input, or stride-2 convs."""
    if kind == "dense":
        x = layers.Flatten(name=f"{name}_flatten")(x)
        for i, u in enumerate(units, start=1):
            x = layers.Dense(u, activation="relu", name=f"{name}_dense{i}")(x)
        return x
    for i, f in enumerate(filters, start=1):
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu",
                          name=f"{name}_conv{i}")(x)
    return layers.Flatten(name=f"{name}_flatten")(x)


def decoder_model(latent_dim, input_shape, *, kind, units, filters, output_activation,
                  name="decoder"):
    """The mirror image of `encoder_layers`, from a code (latent_dim,) to `input_shape`."""
    code = keras.Input((latent_dim,), name="code")
    if kind == "dense":
        x = code
        for i, u in enumerate(reversed(units), start=1):
            x = layers.Dense(u, activation="relu", name=f"{name}_dense{i}")(x)
        x = layers.Dense(math.prod(input_shape), activation=output_activation,
                         name=f"{name}_output")(x)
        out = layers.Reshape(input_shape, name="reconstruction")(x)
    else:
        height, width, channels = input_shape
        x = layers.Dense(height // 4 * width // 4 * filters[-1], activation="relu",
                         name=f"{name}_project")(code)
        x = layers.Reshape((height // 4, width // 4, filters[-1]), name=f"{name}_reshape")(x)
        for i, f in enumerate(reversed(filters), start=1):
            x = layers.Conv2DTranspose(f, 3, strides=2, padding="same", activation="relu",
                                       name=f"{name}_up{i}")(x)
        out = layers.Conv2D(channels, 3, padding="same", activation=output_activation,
                            name="reconstruction")(x)
    return keras.Model(code, out, name=name)


def autoencoder(input_shape=(28, 28, 1), latent_dim=32, name="autoencoder", kind="dense",
                units=(128,), filters=(16, 32), noise_stddev=0.0, activity_l1=0.0,
                output_activation="sigmoid"):
    """An autoencoder: input -> code (``latent_dim``) -> reconstruction; train with
    ``fit(x, x)``.

    Args:
        input_shape: shape of one input, values in [0, 1] for the sigmoid output.
        latent_dim: size of the code (the ``code`` layer).
        kind: "dense" (MLP encoder and decoder) or "conv" (stride-2 convolutions and
            transposed convolutions; sides must be multiples of 4).
        units: hidden widths of the dense encoder (the decoder mirrors them).
        filters: filters of the two convolutional stages.
        noise_stddev: Gaussian noise added to the input during training only (denoising
            autoencoder, Vincent et al., 2008).
        activity_l1: L1 penalty on the code's activations (sparse autoencoder).
        output_activation: of the reconstruction.

    Example:
        >>> ae = kerasdl.build("autoencoder_conv", input_shape=(28, 28, 1), latent_dim=16)
        >>> encoder = keras.Model(ae.input, ae.get_layer("code").output)
    """
    input_shape = _check(input_shape, latent_dim, kind)
    units = check_int_tuple(units, "units")
    filters = check_int_tuple(filters, "filters")
    check_float(noise_stddev, "noise_stddev", 0.0, float("inf"))
    check_float(activity_l1, "activity_l1", 0.0, float("inf"))
    inputs = keras.Input(input_shape, name="inputs")
    x = layers.GaussianNoise(noise_stddev, name="noise")(inputs) if noise_stddev else inputs
    x = encoder_layers(x, kind=kind, units=units, filters=filters)
    # with a penalty on its activations, the code is computed in float32: Keras sums the
    # losses in float32, and a float16 penalty (mixed_float16) fails on TensorFlow
    code = layers.Dense(latent_dim, activation="relu", name="code",
                        activity_regularizer=keras.regularizers.L1(activity_l1)
                        if activity_l1 else None, dtype="float32" if activity_l1 else None)(x)
    decoder = decoder_model(latent_dim, input_shape, kind=kind, units=units, filters=filters,
                            output_activation=output_activation)
    return finish(inputs, decoder(code), name=name)


def kl_divergence(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, summed over the latent axis (in
    float32, as Keras computes losses, under a mixed precision policy too)."""
    z_mean, z_log_var = ops.cast(z_mean, "float32"), ops.cast(z_log_var, "float32")
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)


def _reconstruction_nats(x, decoded):
    """-log p(x|z) per example for Bernoulli pixels: binary cross-entropy summed over them."""
    axes = tuple(range(1, len(x.shape)))
    x, decoded = ops.cast(x, "float32"), ops.cast(decoded, "float32")
    return ops.sum(keras.losses.binary_crossentropy(x[..., None], decoded[..., None]), axis=axes)


@keras.saving.register_keras_serializable(package="kerasdl")
class VAE(Composite, keras.Model):
    """Variational autoencoder (Kingma & Welling, 2014).

    The encoder gives the mean and log-variance of q(z|x); training samples
    ``z = mean + exp(log_var / 2) * eps`` (seeded `keras.random`), decodes it, and
    minimizes the negative ELBO: the reconstruction's binary cross-entropy summed over
    pixels plus the KL divergence to N(0, I), reported as ``reconstruction_loss`` and
    ``kl_loss``. `call` adds the KL term with `add_loss` (the encoder runs once per step)
    and `compute_loss` adds the reconstruction term: `fit` is Keras's own on every
    backend. In inference, ``vae(x)`` decodes the mean.

    Args:
        encoder: a model from x to ``[z_mean, z_log_var]``.
        decoder: a model from z to x's shape, sigmoid outputs.
        seed: seeds the sampling.
    """

    task = "variational"  # what `kerasdl.evaluate` reads to choose its metrics

    def __init__(self, encoder, decoder, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.seed = encoder, decoder, seed
        self.latent_dim = decoder.input_shape[-1]
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        self.built = True

    def encode(self, x):
        """``(z_mean, z_log_var)`` of q(z|x)."""
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def sample(self, n):
        """`n` samples decoded from the prior N(0, I), as a NumPy array."""
        z = keras.random.normal((n, self.latent_dim), seed=self.seed_generator)
        return ops.convert_to_numpy(self.decoder(z))

    def _reparameterize(self, z_mean, z_log_var):
        eps = keras.random.normal(ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps

    def call(self, x, training=False):
        z_mean, z_log_var = self.encoder(x, training=training)
        self.add_loss(ops.mean(kl_divergence(z_mean, z_log_var)))
        z = self._reparameterize(z_mean, z_log_var) if training else z_mean
        return self.decoder(z, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # y_pred is the decoded sample; the KL term is the loss `call` added.
        reconstruction = ops.mean(_reconstruction_nats(x, y_pred))
        kl = sum(self.losses)  # a Python sum: on JAX, a list of traced scalars
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return reconstruction + kl

    def negative_elbo(self, x, batch_size=256):
        """The mean negative ELBO of `x` in nats (reconstruction + KL, one z sample per
        example): an upper bound on -log p(x)."""
        total = 0.0
        for start in range(0, len(x), batch_size):
            batch = ops.convert_to_tensor(x[start:start + batch_size])
            z_mean, z_log_var = self.encoder(batch)
            decoded = self.decoder(self._reparameterize(z_mean, z_log_var))
            total += float(ops.convert_to_numpy(ops.sum(
                _reconstruction_nats(batch, decoded) + kl_divergence(z_mean, z_log_var))))
        return total / len(x)

    @property
    def metrics(self):
        return [*super().metrics, self.reconstruction_tracker, self.kl_tracker]

    PARTS = ("encoder", "decoder")

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def vae(input_shape=(28, 28, 1), latent_dim=2, name="vae", kind="dense", units=(512,),
        filters=(32, 64), seed=None):
    """A VAE with a dense (Kingma & Welling's MLP) or convolutional encoder and decoder.

    Args:
        input_shape: shape of one input, values in [0, 1].
        latent_dim: size of z.
        kind: "dense" or "conv".
        units, filters: as in `autoencoder`.
        seed: seeds the reparameterized sampling.
    """
    input_shape = _check(input_shape, latent_dim, kind)
    units = check_int_tuple(units, "units")
    filters = check_int_tuple(filters, "filters")
    inputs = keras.Input(input_shape, name="inputs")
    x = encoder_layers(inputs, kind=kind, units=units, filters=filters)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    encoder = keras.Model(inputs, [z_mean, z_log_var], name="encoder")
    decoder = decoder_model(latent_dim, input_shape, kind=kind, units=units, filters=filters,
                            output_activation="sigmoid")
    return VAE(encoder, decoder, seed=seed, name=name)


IMAGE = dict(input_shape=(8, 8, 1), latent_dim=4)
AE_TRAIN = dict(dataset="mnist_5k", epochs=20, batch_size=64, lr=1e-3, augment=False,
                task="reconstruction")
for _name, _kind, _extra, _paper, _params in (
    ("autoencoder_dense", "dense", {}, "Hinton & Salakhutdinov 2006, Reducing the "
     "dimensionality of data with neural networks", 209_968),
    ("autoencoder_conv", "conv", {}, "Masci et al. 2011, Stacked convolutional "
     "auto-encoders", 120_769),
    ("autoencoder_denoising", "conv", {"noise_stddev": 0.5}, "Vincent et al. 2008, "
     "Extracting and composing robust features with denoising autoencoders", 120_769),
    ("autoencoder_sparse", "dense", {"activity_l1": 1e-5}, "Ng 2011, Sparse autoencoder "
     "(L1 activity penalty)", 209_968),
):
    register(_name, autoencoder, family="autoencoder", paper=_paper,
             default_input=(28, 28, 1), min_input=(4, 4, 1), num_classes=0, params=_params,
             test_kwargs=dict(IMAGE, units=(16,), filters=(4, 8)), train=AE_TRAIN,
             fixed=dict(kind=_kind), presets=_extra, width=("units", "filters"))
register("vae", vae, family="autoencoder",
         paper="Kingma & Welling 2014, Auto-encoding variational Bayes",
         default_input=(28, 28, 1), min_input=(1,), num_classes=0, params=807_700,
         test_kwargs=dict(IMAGE, units=(64,)),
         train=dict(AE_TRAIN, task="variational", epochs=30), width=("units", "filters"))
