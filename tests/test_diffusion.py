"""Diffusion's arithmetic (kerasdl.diffusion): schedules, the forward process and the
DDPM and DDIM steps, against their closed forms (keras.ops, alike on every backend: once);
the noise-predicting U-Net on every backend."""

import keras
import numpy as np
import pytest

from kerasdl import diffusion
from kerasdl.diffusion import Schedule

independent = pytest.mark.backend_independent


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@independent
def test_schedules_are_the_papers():
    linear = Schedule("linear", 1000)
    np.testing.assert_allclose(linear.betas[[0, -1]], [1e-4, 0.02])
    assert linear.alpha_bars[-1] < 1e-4  # x_T is all but pure noise
    cosine = Schedule("cosine", 1000)
    t = np.arange(1, 1001) / 1000
    f = np.cos((t + 0.008) / 1.008 * np.pi / 2) ** 2 / np.cos(0.008 / 1.008 * np.pi / 2) ** 2
    unclipped = cosine.betas < 0.999
    assert unclipped[:-1].all() and cosine.betas.max() == 0.999  # only the last clipped
    np.testing.assert_allclose(cosine.alpha_bars[unclipped], f[unclipped], rtol=1e-9)
    # the cosine schedule destroys information more slowly in the middle (their Fig. 3)
    assert cosine.alpha_bars[500] > 2 * linear.alpha_bars[500]
    assert cosine.posterior_variances[0] == 0 and (cosine.posterior_variances[1:] > 0).all()
    with pytest.raises(ValueError, match=r"`schedule` must be one of \['linear', 'cosine'\]; "
                                         r"received schedule='quadratic'"):
        Schedule("quadratic")


@independent
def test_the_closed_form_is_t_steps_of_noising_in_distribution():
    schedule, rng = Schedule("linear", 50), np.random.default_rng(0)
    x0 = np.array([1.0, -0.5, 0.0, 2.0])
    samples = np.tile(x0, (20_000, 1))
    for t in range(40):  # x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) eps, step by step
        samples = np.sqrt(1 - schedule.betas[t]) * samples \
            + np.sqrt(schedule.betas[t]) * rng.standard_normal(samples.shape)
        if t in (0, 9, 39):
            closed = _numpy(diffusion.noised(
                schedule, np.tile(x0, (20_000, 1)).astype("float32"), np.full(20_000, t),
                rng.standard_normal(samples.shape).astype("float32")))
            mean, var = np.sqrt(schedule.alpha_bars[t]) * x0, 1 - schedule.alpha_bars[t]
            error = 5 * np.sqrt(var / 20_000)  # 5 standard errors of a mean
            for drawn in (samples, closed):
                np.testing.assert_allclose(drawn.mean(0), mean, atol=error)
                np.testing.assert_allclose(drawn.var(0), var, rtol=0.05)
    with pytest.raises(ValueError, match=r"`t` must be timesteps in \[0, 50\) .* received "
                                         r"values from 3 to 50"):
        diffusion.noised(schedule, np.zeros((2, 4), "float32"), np.array([3, 50]),
                         np.zeros((2, 4), "float32"))


def _sample(step, schedule, pairs, x, predictor, noises):
    for (t, t_prev), noise in zip(pairs, noises):
        x = _numpy(step(t, t_prev, x, predictor(x, t), noise))
    return x


@independent
def test_ddim_with_eta_1_and_every_step_is_ddpms_sampler():
    schedule, rng = Schedule("cosine", 100), np.random.default_rng(0)
    x_T = rng.standard_normal((3, 5)).astype("float32")
    noises = rng.standard_normal((100, 3, 5)).astype("float32")

    def predictor(x, t):  # any function of (x_t, t) will do
        return 0.3 * x + 0.01 * t
    pairs = diffusion.ddim_timesteps(100, 100)
    assert pairs[0] == (99, 98) and pairs[-1] == (0, -1) and len(pairs) == 100
    ddpm = _sample(lambda t, _, x, eps, z: diffusion.ddpm_step(schedule, x, t, eps, z),
                   schedule, pairs, x_T, predictor, noises)
    ddim = _sample(lambda t, t_prev, x, eps, z: diffusion.ddim_step(
        schedule, x, t, t_prev, eps, z, eta=1.0), schedule, pairs, x_T, predictor, noises)
    np.testing.assert_allclose(ddim, ddpm, rtol=1e-4, atol=1e-5)
    assert not np.allclose(ddpm, x_T)


@independent
def test_deterministic_ddim_with_the_true_noise_recovers_x0_in_any_number_of_steps():
    schedule, rng = Schedule("linear", 1000), np.random.default_rng(1)
    x0 = rng.uniform(-1, 1, (2, 6))
    x_T = _numpy(diffusion.noised(schedule, x0.astype("float32"), np.array([999, 999]),
                                  rng.standard_normal((2, 6)).astype("float32")))

    def true_noise(x, t):  # what a perfect network would predict of this x0
        alpha_bar = schedule.alpha_bars[t]
        return ((x - np.sqrt(alpha_bar) * x0) / np.sqrt(1 - alpha_bar)).astype("float32")
    for steps in (1, 10, 50):
        pairs = diffusion.ddim_timesteps(steps, 1000)
        found = _sample(lambda t, t_prev, x, eps, z: diffusion.ddim_step(
            schedule, x, t, t_prev, eps), schedule, pairs, x_T, true_noise, [None] * steps)
        np.testing.assert_allclose(found, x0, atol=1e-3)


@independent
def test_sampler_arguments_out_of_range_are_refused():
    schedule = Schedule("linear", 10)
    x = np.zeros((1, 2), "float32")
    with pytest.raises(ValueError, match=r"`steps` must be at most the schedule's T = 10; "
                                         r"received steps=11"):
        diffusion.ddim_timesteps(11, 10)
    with pytest.raises(ValueError, match=r"`steps` must be an integer >= 1; received steps=0"):
        diffusion.ddim_timesteps(0, 10)
    with pytest.raises(ValueError, match=r"`t_prev` must be below `t`"):
        diffusion.ddim_step(schedule, x, 3, 3, x)
    with pytest.raises(ValueError, match=r"`eta`"):
        diffusion.ddim_step(schedule, x, 3, 2, x, x, eta=1.5)
    with pytest.raises(ValueError, match=r"eta=0.5 draws noise at each step: pass `noise`"):
        diffusion.ddim_step(schedule, x, 3, 2, x, eta=0.5)
    with pytest.raises(ValueError, match=r"`t` must be timesteps in \[0, 10\)"):
        diffusion.ddpm_step(schedule, x, 10, x, x)


@independent
def test_timesteps_embed_as_the_transformers_sinusoids():
    from kerasdl.layers import TimestepEmbedding

    t = np.array([0, 1, 500, 999])
    table = _numpy(TimestepEmbedding(6)(t))
    rates = 10000.0 ** (-np.arange(0, 6, 2) / 6)
    expected = np.stack([np.sin(t[:, None] * rates), np.cos(t[:, None] * rates)], -1)
    np.testing.assert_allclose(table, expected.reshape(4, 6), atol=1e-4)


@independent
def test_the_noise_unet_refuses_sizes_and_groups_it_cannot_take():
    from kerasdl.models.diffusion import noise_unet

    with pytest.raises(ValueError, match=r"halves its maps 2 times \(multipliers=\(1, 2, 2\)\), "
                                         r"so each side .* a multiple of 4; received "
                                         r"input_shape=\(30, 30, 1\)"):
        noise_unet((30, 30, 1))
    with pytest.raises(ValueError, match=r"`groups`=8 must divide every level's channels, "
                                         r"\[12, 24\]"):
        noise_unet((8, 8, 1), filters=12, multipliers=(1, 2))


def test_the_noise_unet_predicts_noise_of_its_input_shape_for_each_timestep_and_label(tmp_path):
    from kerasdl.models.diffusion import noise_unet

    keras.utils.set_random_seed(0)
    model = noise_unet((8, 8, 1), filters=8, multipliers=(1, 2), groups=4, heads=2,
                       num_classes=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 8, 1)).astype("float32")
    label = np.array([0, 1, 2, 3], "int32")  # 3: no label
    assert not _numpy(model([x, np.full(4, 5, "int32"), label])).any()  # DDPM's zero start
    last = model.get_layer("noise")
    last.set_weights([rng.standard_normal(w.shape).astype("float32") for w in last.get_weights()])
    early, late = (_numpy(model([x, np.full(4, t, "int32"), label])) for t in (5, 900))
    assert early.shape == x.shape and not np.allclose(early, late)
    other = _numpy(model([x, np.full(4, 5, "int32"), label[::-1]]))
    assert not np.allclose(early, other)
    model.save(tmp_path / "noise_unet.keras")
    reloaded = keras.saving.load_model(tmp_path / "noise_unet.keras")
    np.testing.assert_allclose(_numpy(reloaded([x, np.full(4, 5, "int32"), label])), early,
                               atol=1e-5)
