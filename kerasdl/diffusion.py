"""Diffusion's arithmetic: the forward process and the reverse steps of DDPM (Ho, Jain &
Abbeel, 2020) and DDIM (Song, Meng & Ermon, 2021), apart from any network.

The forward process adds Gaussian noise in `T` steps of variances beta_1..beta_T; with
alpha_t = 1 - beta_t and alpha_bar_t their product up to t, a noised image has the closed
form ``x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps``. A network learns eps
from (x_t, t); each reverse step then moves x_t towards x_0 with its estimate.

Timesteps are 0-based here: ``t = 0..T-1`` stands for the papers' 1..T.

- `Schedule`: beta, alpha_bar and the posterior's variances for "linear" (Ho et al.:
  1e-4 to 0.02) or "cosine" (Nichol & Dhariwal, 2021) variances;
- `noised`: x_t from x_0, t and eps (the closed form);
- `ddpm_step`: one ancestral step, x_t -> x_{t-1};
- `ddim_step`: one DDIM step, x_t -> x_{t_prev}, with eta (0: deterministic; 1: DDPM's
  step, when t_prev = t - 1);
- `ddim_timesteps`: the timesteps a sampler of fewer steps visits.

The steps are `keras.ops`, so they run on every backend and inside a compiled function.
"""

import dataclasses
import functools
import math

import numpy as np
from keras import ops

from kerasdl._checks import check_choice, check_float, check_int

SCHEDULES = ("linear", "cosine")
COSINE_OFFSET = 0.008  # Nichol & Dhariwal's s, which keeps beta_1 from being too small
MAX_BETA = 0.999  # their clipping of the cosine schedule's last betas


@dataclasses.dataclass(frozen=True)
class Schedule:
    """The forward process's variances, and what follows from them, as float64 arrays
    indexed by timestep (0..T-1).

    Args:
        kind: "linear" (Ho et al.'s: beta from 1e-4 to 0.02 over T = 1000) or "cosine"
            (Nichol & Dhariwal's: alpha_bar_t = f(t) / f(0), f(t) = cos^2((t / T + s) /
            (1 + s) * pi / 2), s = 0.008, each beta clipped at 0.999).
        steps: T.
    """

    kind: str = "linear"
    steps: int = 1000

    def __post_init__(self):
        check_choice(self.kind, "schedule", SCHEDULES)
        check_int(self.steps, "steps", minimum=2)

    @functools.cached_property
    def betas(self):
        if self.kind == "linear":  # Ho et al.'s 1e-4..0.02 was for T = 1000; scaled to T
            scale = 1000 / self.steps
            return np.linspace(scale * 1e-4, min(scale * 0.02, MAX_BETA), self.steps)
        t = np.arange(self.steps + 1) / self.steps
        f = np.cos((t + COSINE_OFFSET) / (1 + COSINE_OFFSET) * np.pi / 2) ** 2
        return np.minimum(1 - f[1:] / f[:-1], MAX_BETA)

    @functools.cached_property
    def alpha_bars(self):
        return np.cumprod(1 - self.betas)

    @functools.cached_property
    def posterior_variances(self):
        """beta~_t = beta_t (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t): the variance of
        q(x_{t-1} | x_t, x_0), 0 at t = 0."""
        previous = np.concatenate([[1.0], self.alpha_bars[:-1]])
        return self.betas * (1 - previous) / (1 - self.alpha_bars)

    def check_timestep(self, t, name="t"):
        """`t` (an int or an array of them) inside [0, T); a ValueError otherwise."""
        values = np.asarray(t)
        if not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"`{name}` must be integer timesteps; received dtype "
                            f"{values.dtype}.")
        if values.size and (values.min() < 0 or values.max() >= self.steps):
            raise ValueError(f"`{name}` must be timesteps in [0, {self.steps}) (T = "
                             f"{self.steps}, 0-based); received values from {values.min()} "
                             f"to {values.max()}.")
        return t


def _at(table, t, like):
    """`table`'s values at timesteps `t` (a tensor of shape (N,)), shaped to broadcast
    over `like` (N, ...)."""
    values = ops.take(ops.convert_to_tensor(table.astype("float32")), t)
    return ops.reshape(values, (-1,) + (1,) * (len(like.shape) - 1))


def noised(schedule, x0, t, noise):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise, for a batch `x0`
    (N, ...) at timesteps `t` (N,) (the forward process in closed form). NumPy `t` is
    checked against [0, T); a tensor's values cannot be, inside a compiled step."""
    if isinstance(t, (int, np.integer, np.ndarray)):
        schedule.check_timestep(t)
    t = ops.convert_to_tensor(t, "int32")
    alpha_bar = _at(schedule.alpha_bars, t, x0)
    return ops.sqrt(alpha_bar) * x0 + ops.sqrt(1 - alpha_bar) * noise


def ddpm_step(schedule, x_t, t, predicted_noise, noise):
    """One step of DDPM's ancestral sampler at timestep `t` (an int): the posterior's
    mean, 1 / sqrt(alpha_t) (x_t - beta_t / sqrt(1 - alpha_bar_t) eps), plus `noise`
    scaled by the posterior's standard deviation sqrt(beta~_t) (Ho et al.'s second choice
    of sigma^2, exact for a fixed x_0; 0 at t = 0, so the last step adds none)."""
    schedule.check_timestep(t)
    # Python floats: a NumPy scalar left of a tensor would make it a NumPy array
    beta, alpha_bar = float(schedule.betas[t]), float(schedule.alpha_bars[t])
    mean = (x_t - beta / math.sqrt(1 - alpha_bar) * predicted_noise) / math.sqrt(1 - beta)
    return mean + math.sqrt(schedule.posterior_variances[t]) * noise


def ddim_step(schedule, x_t, t, t_prev, predicted_noise, noise=None, eta=0.0):
    """One step of DDIM's sampler from timestep `t` to `t_prev` < t (-1: to x_0):

        x_0' = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t)
        x_prev = sqrt(alpha_bar_prev) x_0' + sqrt(1 - alpha_bar_prev - sigma^2) eps + sigma z

    with sigma = eta sqrt((1 - alpha_bar_prev) / (1 - alpha_bar_t)) sqrt(1 - alpha_bar_t /
    alpha_bar_prev). eta = 0 is deterministic (`noise` unused); eta = 1 with t_prev = t - 1
    is DDPM's step."""
    schedule.check_timestep(t)
    check_int(t_prev, "t_prev", minimum=-1)
    if t_prev >= t:
        raise ValueError(f"`t_prev` must be below `t`: DDIM steps towards x_0; received "
                         f"t={t}, t_prev={t_prev}.")
    check_float(eta, "eta", 0.0, 1.0, high_inclusive=True)
    alpha_bar = float(schedule.alpha_bars[t])  # Python floats, as in `ddpm_step`
    previous = float(schedule.alpha_bars[t_prev]) if t_prev >= 0 else 1.0
    sigma = eta * math.sqrt((1 - previous) / (1 - alpha_bar) * (1 - alpha_bar / previous))
    x0 = (x_t - math.sqrt(1 - alpha_bar) * predicted_noise) / math.sqrt(alpha_bar)
    x_prev = math.sqrt(previous) * x0 + math.sqrt(max(1 - previous - sigma ** 2, 0.0)) \
        * predicted_noise
    if sigma > 0:
        if noise is None:
            raise ValueError(f"eta={eta} draws noise at each step: pass `noise`.")
        x_prev = x_prev + sigma * noise
    return x_prev


def ddim_timesteps(steps, total):
    """The `steps` timesteps, from T - 1 down to 0, that a sampler of `steps` steps visits
    of a schedule of `total` (evenly spaced, as Song et al.'s uniform skipping; `total`
    steps: every one). Each is paired with the next, -1 after the last."""
    check_int(steps, "steps")
    if steps > total:
        raise ValueError(f"`steps` must be at most the schedule's T = {total}; received "
                         f"steps={steps}.")
    visited = np.round(np.linspace(total - 1, 0, steps)).astype(int)
    return list(zip(visited.tolist(), visited[1:].tolist() + [-1]))
