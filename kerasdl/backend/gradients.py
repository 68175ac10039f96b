"""Gradient steps inside a custom `train_step`, per backend.

Keras has one API for models, layers, losses and optimizers, but none for "the
gradients of this loss with respect to these variables" inside a training step:
TensorFlow records a `GradientTape`, PyTorch runs autograd, and JAX differentiates a
pure function of the variables' values. This module hides that difference behind
`minimize` and `input_gradients`, and runs a model's backend-neutral step statelessly on
JAX (`stateless_train_step`), so that a GAN's `train_step` is written once. Each
backend's library is imported in its own branch: only the current backend's is loaded.
"""

import keras

from kerasdl.backend.compat import current_stateless_scope

BACKEND = keras.backend.backend()


def minimize(loss_fn, variables, optimizer):
    """Evaluate ``loss_fn()``, differentiate it with respect to `variables` and let
    `optimizer` apply the gradients. Returns the loss.

    Everything `loss_fn` changes besides `variables` (batch-norm statistics, random seed
    states) keeps its new value, on every backend.
    """
    variables = list(variables)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn()
        grads = tape.gradient(loss, variables)
    elif BACKEND == "torch":
        import torch

        loss = loss_fn()
        grads = torch.autograd.grad(loss, [v.value for v in variables])
    elif BACKEND == "jax":
        loss, grads = _jax_value_and_grad(loss_fn, variables)
    else:  # Keras's numpy and openvino backends cannot train
        raise NotImplementedError(f"kerasdl's custom training steps do not support backend "
                                  f"{BACKEND!r}; use tensorflow, jax or torch.")
    optimizer.apply(grads, variables)
    return loss


def input_gradients(fn, x):
    """Gradients of ``sum(fn(x))`` with respect to the tensor `x`, themselves
    differentiable (for penalties on them, such as WGAN-GP's)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(fn(x))
        return tape.gradient(y, x)
    if BACKEND == "torch":
        import torch

        x = x.detach().requires_grad_(True)
        return torch.autograd.grad(fn(x).sum(), x, create_graph=True)[0]
    if BACKEND == "jax":
        import jax

        return jax.grad(lambda t: fn(t).sum())(x)
    raise NotImplementedError(f"kerasdl's input gradients do not support backend {BACKEND!r}; "
                              f"use tensorflow, jax or torch.")


def _jax_value_and_grad(loss_fn, variables):
    """JAX: differentiate `loss_fn` as a pure function of the values of `variables`,
    inside the enclosing `StatelessScope`; carry out the other assignments it made."""
    import jax


    outer = current_stateless_scope()  # Variable.value reads only the innermost scope
    known = dict(outer.state_mapping)  # id(variable) -> current value
    differentiated = {id(v) for v in variables}

    def pure(values):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))) as scope:
            scope.state_mapping = {**known, **scope.state_mapping}
            loss = loss_fn()
        changed = {k: val for k, val in scope.state_mapping.items()
                   if k not in differentiated and val is not known.get(k)}
        return loss, changed

    (loss, changed), grads = jax.value_and_grad(pure, has_aux=True)(
        [v.value for v in variables])
    outer.state_mapping.update(changed)
    return loss, grads


def stateless_train_step(model, step, state, data):
    """JAX: run `step(data)` (written with stateful Keras calls) as the pure function
    of `state` that Keras's JAX trainer expects; returns ``(logs, new_state)``.

    `model.optimizer.variables` must hold every optimizer's variables (see
    `kerasdl.models.gan.OptimizerPair`): JAX carries them through the step.
    """
    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables, model.metrics_variables)
    mapping = [(v, value) for group, values in zip(groups, state)
               for v, value in zip(group, values)]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step(data)
    new_state = tuple([scope.get_current_value(v) for v in group] for group in groups)
    return logs, new_state
