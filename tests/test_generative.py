"""GANs (custom train_step on every backend), autoencoders and the VAE."""

import keras
import numpy as np
import pytest
from keras import layers

import kerasdl
from kerasdl import testing
from kerasdl.models.autoencoder import kl_divergence
from kerasdl.models.gan import GAN
from kerasdl.registry import get_spec
from tests.helpers import (assert_config_round_trip, assert_every_weight_moved,
                           assert_file_round_trip, snapshot)

GANS = kerasdl.list_models(family="generative")


def _numpy(weights):
    return [keras.ops.convert_to_numpy(w).copy() for w in weights]


def _iterations(optimizer):
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def _compiled(name):
    keras.utils.set_random_seed(0)
    model = kerasdl.build(name, seed=1, **get_spec(name).test_kwargs)
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3),
                  g_optimizer=keras.optimizers.Adam(1e-3))
    return model


def _data(model, rng, n=32):
    x = rng.random((n, *model.discriminator.inputs[0].shape[1:])).astype("float32")
    return (x, np.arange(n, dtype="int32") % model.num_classes) if model.num_classes else (x,)


@pytest.mark.parametrize("name", GANS)
def test_gan_steps_train_both_networks_and_survive_save_and_reload(name, rng, tmp_path):
    model = _compiled(name)
    data = _data(model, rng)
    nets = (model.generator, model.discriminator)
    before = [snapshot(net.trainable_weights) for net in nets]
    history = model.fit(*data, batch_size=8, epochs=2, verbose=0).history
    steps = 2 * 32 // 8
    assert _iterations(model.d_optimizer) == steps * model.n_critic
    assert _iterations(model.g_optimizer) == steps
    for old, net in zip(before, nets):
        assert_every_weight_moved(net.trainable_weights, old)
    assert np.isfinite(history["d_loss"]).all() and np.isfinite(history["g_loss"]).all()

    assert_config_round_trip(model)
    noise = testing.example(get_spec(name), rng, 4)[0]  # generator inputs
    loaded = assert_file_round_trip(model, tmp_path / "gan.keras", noise)
    assert isinstance(loaded, GAN) and loaded.n_critic == model.n_critic
    for a, b in zip(_numpy(loaded.weights), _numpy(model.weights)):
        np.testing.assert_allclose(a, b)
    for a, b in zip(_numpy(loaded.d_optimizer.variables + loaded.g_optimizer.variables),
                    _numpy(model.d_optimizer.variables + model.g_optimizer.variables)):
        np.testing.assert_allclose(a, b)
    loaded.fit(*data, batch_size=8, epochs=1, verbose=0)  # training continues
    assert _iterations(loaded.g_optimizer) == steps + steps // 2
    assert _iterations(loaded.d_optimizer) == (steps + steps // 2) * model.n_critic


def test_conditional_gan_learns_to_generate_the_asked_label(rng):
    """Three labels, each a point cloud of its own: after training, the samples asked
    for with a label lie nearest that label's cloud (before: anywhere)."""
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 2.0]], dtype="float32")
    labels = np.arange(768, dtype="int32") % 3
    points = (centres[labels] + 0.2 * rng.standard_normal((768, 2))).astype("float32")
    keras.utils.set_random_seed(0)
    model = kerasdl.build("cgan", seed=1, **{**get_spec("cgan").test_kwargs,
                                             "generator_units": (32,),
                                             "discriminator_units": (32,)})
    model.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3))
    model.fit(points, labels, batch_size=64, epochs=20, verbose=0)
    asked = np.repeat(np.arange(3, dtype="int32"), 100)
    samples = model.generate(300, labels=asked)
    nearest = np.argmin(((samples[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    assert np.mean(nearest == asked) > 0.85  # untrained: 0.26-0.47; trained: 0.93-1.0


def _critic(fn):
    """A GAN around a hand-made critic on 2-D points (its generator is unused)."""
    x = keras.Input((2,))
    generator = keras.Sequential([keras.Input((1,)), layers.Dense(2)])
    return GAN(generator, keras.Model(x, fn(x)), latent_dim=1, loss="wasserstein")


def test_gradient_penalty_matches_hand_computed_values():
    # Linear critic w.x: the gradient is w everywhere, ||w|| = 5, so GP = (5 - 1)^2.
    dense = layers.Dense(1, kernel_initializer=keras.initializers.Constant([[3.0], [4.0]]))
    gan = _critic(dense)
    real = np.array([[0.0, 1.0], [2.0, -1.0]], dtype="float32")
    fake = np.array([[1.0, 1.0], [0.5, 0.5]], dtype="float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gan.gradient_penalty(real, fake)),
                               16.0, rtol=1e-5)
    # Critic (w.x)^2 with real == fake: gradient 2 (w.x) w, norm 2 |w.x| ||w||.
    square = layers.Dense(1, use_bias=False,
                          kernel_initializer=keras.initializers.Constant([[3.0], [4.0]]))
    gan = _critic(lambda x: layers.Lambda(lambda t: t ** 2)(square(x)))
    points = np.array([[0.1, 0.0], [0.0, 0.2]], dtype="float32")  # w.x = 0.3, 0.8
    expected = np.mean([(2 * 0.3 * 5 - 1) ** 2, (2 * 0.8 * 5 - 1) ** 2])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gan.gradient_penalty(points, points)),
                               expected, rtol=1e-5)


@pytest.mark.parametrize("call,match", [
    (lambda g: g.compile(g_optimizer="adam"), r"needs both `d_optimizer` and `g_optimizer`; "
                                              r"missing \['d_optimizer'\]"),
    (lambda g: g.compile(d_optimizer="adam"), r"missing \['g_optimizer'\]"),
])
@pytest.mark.backend_independent
def test_gan_compile_needs_both_optimizers(call, match):
    with pytest.raises(ValueError, match=match):
        call(kerasdl.build("gan_mlp", **get_spec("gan_mlp").test_kwargs))


@pytest.mark.parametrize("call,match", [
    (lambda: kerasdl.build("gan_mlp", latent_dim=0), r"`latent_dim` must be an integer >= 1; "
                                                    r"received latent_dim=0"),
    (lambda: kerasdl.build("dcgan", input_shape=(30, 30, 1)),
     r"input_shape`=\(30, 30, 1\).*multiples of 4"),
    (lambda: kerasdl.build("wgan_gp", n_critic=0), r"received n_critic=0"),
    (lambda: kerasdl.build("vae", latent_dim=-2), r"received latent_dim=-2"),
    (lambda: kerasdl.build("autoencoder_conv", input_shape=(28, 28)),
     r"conv autoencoder must be \(height, width, channels\)"),
])
def test_bad_generative_arguments_get_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_vae_kl_is_zero_when_the_encoder_outputs_the_prior(rng):
    assert float(keras.ops.convert_to_numpy(kl_divergence(np.zeros((3, 4)), np.zeros((3, 4)))
                                            ).max()) == 0.0
    vae = kerasdl.build("vae", **get_spec("vae").test_kwargs)
    for layer in ("z_mean", "z_log_var"):
        vae.encoder.get_layer(layer).set_weights(
            [np.zeros(w.shape, "float32") for w in vae.encoder.get_layer(layer).weights])
    vae.compile(optimizer="adam")
    scores = vae.evaluate(rng.random((8, 8, 8, 1)).astype("float32"), verbose=0,
                          return_dict=True)
    assert scores["kl_loss"] == 0.0 and scores["reconstruction_loss"] > 0.0
    np.testing.assert_allclose(scores["loss"], scores["reconstruction_loss"], rtol=1e-6)


def test_vae_encode_decode_and_seeded_samples(rng):
    samples = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        vae = kerasdl.build("vae", seed=7, **get_spec("vae").test_kwargs)
        samples.append(vae.sample(5))
    assert samples[0].shape == (5, 8, 8, 1)
    np.testing.assert_array_equal(samples[0], samples[1])
    z_mean, z_log_var = vae.encode(rng.random((3, 8, 8, 1)).astype("float32"))
    assert z_mean.shape == z_log_var.shape == (3, 4)
    assert vae.decode(z_mean).shape == (3, 8, 8, 1)


def test_denoising_noise_only_in_training_and_sparse_penalty(rng):
    x = rng.random((4, 8, 8, 1)).astype("float32")
    kwargs = get_spec("autoencoder_denoising").test_kwargs
    ae = kerasdl.build("autoencoder_denoising", **kwargs)
    np.testing.assert_array_equal(ae.predict(x, verbose=0), ae.predict(x, verbose=0))
    trained = keras.ops.convert_to_numpy(ae(x, training=True))
    assert not np.allclose(trained, ae.predict(x, verbose=0))
    sparse = kerasdl.build("autoencoder_sparse", **kwargs)
    sparse(x)
    assert len(sparse.losses) == 1 and float(keras.ops.convert_to_numpy(sparse.losses[0])) > 0
