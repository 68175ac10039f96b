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
# # Sequence models: a GRU forecaster, Word2Vec and attention
#
# Three small tasks with known answers, each trained with `model.fit` on whichever backend `KERAS_BACKEND` names: a stacked GRU forecasting a noisy periodic series, skip-gram Word2Vec finding the topics of a synthetic corpus, and the attention weights of an encoder-decoder learning to reverse sequences.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets, sequences
from kerasdl.models.word2vec import embeddings, most_similar
from kerasdl.training import compile_model, plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)

# %% [markdown]
# ## Forecasting: two stacked GRUs with dropout between them
#
# The next value of `sin(2πt/25) + 0.5 sin(2πt/7)` plus noise of σ 0.1, from the last 50 steps. The noise itself has MSE 0.01, the floor no model can beat.

# %%
train, test, data_kwargs = datasets.load_for_model('gru', 'periodic')
model = kerasdl.build('gru', units=(16, 16), dropout=0.1, **data_kwargs)
history, metrics = train_model(model, train, test, task='regression', epochs=8 if QUICK else 30, batch_size=32, lr=3e-3, verbose=0)
print(metrics)
assert metrics['test_loss'] < 0.1  # variance of the series: ~0.63
plot_history(history, 'gru_history.png')
plt.figure(figsize=(10, 3))
plt.plot(test[1][:150], label='truth')
plt.plot(model.predict(test[0][:150], verbose=0)[:, 0], label='GRU')
plt.legend();

# %% [markdown]
# ## Word2Vec: skip-gram with negative sampling
#
# Sentences draw their words from one of four topics of ten words; the embedding should put each topic together. The first two principal components of the vectors, coloured by topic:

# %%
(x, y), _, data_kwargs = datasets.load_for_model('word2vec_skipgram')
w2v = kerasdl.build('word2vec_skipgram', embed_dim=16, **data_kwargs)
compile_model(w2v, task='binary', lr=1e-2)
w2v.fit(x, y, batch_size=256, epochs=2 if QUICK else 5, verbose=0)
same = [(o - 1) // 10 == (w - 1) // 10 for w in range(1, 41) for o, _ in most_similar(w2v, w, k=5)]
print(f'{np.mean(same):.0%} of nearest neighbours share the topic')
assert np.mean(same) >= 0.9
vectors = embeddings(w2v)[1:]
vectors = vectors - vectors.mean(axis=0)
pcs = vectors @ np.linalg.svd(vectors, full_matrices=False)[2][:2].T
plt.scatter(pcs[:, 0], pcs[:, 1], c=np.arange(40) // 10, cmap='tab10');

# %% [markdown]
# ## Attention weights of an encoder-decoder
#
# `seq2seq_attention` (GRU, Bahdanau's additive score) trained briefly to reverse sequences of 10 tokens. Reversal asks output step t to look at input step 9 - t: the weights should drift towards the anti-diagonal. (The benchmark trains it to ≥ 95% whole-sequence accuracy.)

# %%
train, test, data_kwargs = datasets.load_for_model('seq2seq_attention')
s2s = kerasdl.build('seq2seq_attention', units=64, return_attention=True, **data_kwargs)
trainer = keras.Model(s2s.inputs, s2s.outputs[0])  # the same layers, probabilities only
compile_model(trainer, lr=3e-3)
trainer.fit(train[0], train[1], batch_size=64, epochs=3 if QUICK else 10, verbose=0)
_, weights = s2s.predict([t[:1] for t in test[0]], verbose=0)
plt.imshow(weights[0], cmap='viridis')
plt.xlabel('source position'); plt.ylabel('target position');
