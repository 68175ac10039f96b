# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Recurrent networks
#
# A stacked SimpleRNN forecasting a noisy periodic series, why plain RNNs forget (gradients through time, drawn), SimpleRNN against LSTM and GRU on the adding problem, and exploding gradients tamed by clipping: each trained with `model.fit` on the backend `KERAS_BACKEND` names.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets, sequences
from kerasdl.backend.gradients import input_gradients
from kerasdl.training import TrainingDiverged, plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Forecasting with two stacked SimpleRNNs
#
# The next value of `sin(2πt/25) + 0.5 sin(2πt/7)` plus noise of σ 0.1, from the last 50 values; dropout between the two recurrent layers. The noise alone has MSE 0.01, the floor no model can beat; the series' variance is about 0.63.

# %%
train, test, data_kwargs = datasets.load_for_model('simple_rnn', 'periodic')
model = kerasdl.build('simple_rnn', units=(16, 16), dropout=0.1, **data_kwargs)
history, metrics = train_model(model, train, test, task='regression', epochs=5 if QUICK else 30, batch_size=32, lr=3e-3, verbose=0)
print({k: round(v, 4) for k, v in metrics.items() if k.startswith('test_') and isinstance(v, float)})
assert metrics['test_mse'] < (0.1 if QUICK else 0.02)
plot_history(history, 'simple_rnn_history.png')
plt.figure(figsize=(10, 3))
plt.plot(test[1][:150], label='truth')
plt.plot(model.predict(test[0][:150], verbose=0)[:, 0], label='SimpleRNN')
plt.legend();

# %% [markdown]
# ## Gradients through time
#
# How much does the output at the last step depend on the input at step t? The size of ∂y/∂x_t for untrained networks over 50 steps. Backpropagation through a linear RNN multiplies by the recurrent matrix once per step: an orthogonal matrix scaled by 0.8 makes the gradient vanish like 0.8^(50-t), scaled by 1.2 makes it explode; tanh's derivative (at most 1) damps it. An untrained LSTM forgets too: its forget gates start near σ(1) ≈ 0.73 per step. But its cell state is updated by addition, so training can open those gates and carry the gradient back, which the adding problem below needs.

# %%
x = keras.ops.convert_to_tensor(sequences.adding_problem(16, 50, seed=0)[0])
def simple_rnn(gain, activation):
    return keras.Sequential([keras.Input((50, 2)), keras.layers.SimpleRNN(32, activation=activation, recurrent_initializer=keras.initializers.Orthogonal(gain)), keras.layers.Dense(1)])
networks = {'linear RNN, gain 0.8': simple_rnn(0.8, None), 'linear RNN, gain 1.2': simple_rnn(1.2, None),
            'tanh RNN, gain 1.0': simple_rnn(1.0, 'tanh'), 'LSTM': kerasdl.build('lstm', input_shape=(50, 2), units=(32,))}
plt.figure(figsize=(8, 4))
for label, network in networks.items():
    grads = keras.ops.convert_to_numpy(input_gradients(network, x))
    plt.semilogy(np.linalg.norm(grads, axis=-1).mean(axis=0), label=label)
plt.xlabel('input step t'); plt.ylabel('|∂y / ∂x_t|'); plt.legend();

# %% [markdown]
# ## SimpleRNN, LSTM and GRU on the adding problem
#
# Each sequence holds 50 random values (20 in quick mode) and marks two of them; the target is their sum. Always answering 1 (the mean) scores an MSE of about 0.167: a network beats that only by remembering the marked values across the sequence. 32 units each, Adam, gradients clipped to norm 1.

# %%
LENGTH, EPOCHS = (20, 6) if QUICK else (50, 20)
adding_train = sequences.adding_problem(2000 if QUICK else 10_000, LENGTH, seed=0)
adding_test = sequences.adding_problem(500, LENGTH, seed=1)
curves = {}
for name in ['simple_rnn', 'lstm', 'gru']:
    keras.utils.set_random_seed(0)
    network = kerasdl.build(name, input_shape=(LENGTH, 2), units=(32,))
    history, metrics = train_model(network, adding_train, adding_test, task='regression', epochs=EPOCHS, batch_size=32, lr=1e-2, clipnorm=1.0, verbose=0)
    curves[name] = history.history['val_loss']
    print(f"{name:<11} {network.count_params():>6,} weights  test MSE {metrics['test_mse']:.2g}")
plt.figure(figsize=(8, 4))
for name, curve in curves.items():
    plt.plot(range(1, EPOCHS + 1), curve, 'o-', label=name)
plt.axhline(1 / 6, color='grey', ls='--', label='always 1 (MSE 0.167)')
plt.xlabel('epoch'); plt.ylabel('validation MSE'); plt.yscale('log'); plt.legend();
assert min(curves['lstm'][-1], curves['gru'][-1]) < (0.1 if QUICK else 0.01)

# %% [markdown]
# ## Exploding gradients, and clipping
#
# The SimpleRNN on the same task with SGD (Nesterov momentum 0.9, learning rate 0.05): without clipping, one large gradient sends the weights to infinity in the first epoch, and kerasdl stops the run with an error that says what to try. Clipping each gradient to norm 1 bounds every step, and the same run stays finite.

# %%
for clipnorm in (None, 1.0):
    keras.utils.set_random_seed(0)
    network = kerasdl.build('simple_rnn', input_shape=(LENGTH, 2), units=(64,))
    try:
        history, _ = train_model(network, adding_train, adding_test, task='regression', optimizer='sgd', lr=0.05, schedule='constant', clipnorm=clipnorm, epochs=3, batch_size=32, verbose=0)
        print(f'clipnorm={clipnorm}: training loss per epoch', np.round(history.history['loss'], 3))
        assert np.isfinite(history.history['loss']).all()
    except TrainingDiverged as error:
        print(f'clipnorm={clipnorm}: {error}')
