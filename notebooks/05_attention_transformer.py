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
# # Attention and the Transformer
#
# An RNN encoder-decoder that attends to its input (Bahdanau's additive score against Luong's dot score, their weights drawn), the masks a Transformer needs, and a Transformer learning to reverse sequences, scored by accuracy, perplexity and BLEU: each trained with `model.fit` on the backend `KERAS_BACKEND` names.
#
# The task has a known answer: reverse 10 tokens drawn from a vocabulary of 20 (10,000 training sequences, 3,000 in quick mode, and 1,000 test sequences). Output step t must read input step 9 − t, so a working attention draws the anti-diagonal.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.training import compile_model, plot_history, train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)
train, test, data_kwargs = datasets.load_for_model('seq2seq_attention')
if QUICK:  # a third of the training set
    train = [a[:3000] for a in train[0]], train[1][:3000]
print('source', test[0][0][0], '\ntarget', test[1][0])

# %% [markdown]
# ## Additive (Bahdanau) and dot (Luong) attention
#
# The same GRU encoder-decoder with two scores: Bahdanau's `v·tanh(W₁q + W₂h)`, a small network, and Luong's `q·h`, a dot product with no weights. Each decoder step's softmax over the encoder's 10 positions, for one test sequence:

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, score in zip(axes, ['bahdanau', 'luong']):
    keras.utils.set_random_seed(0)
    s2s = kerasdl.build('seq2seq_attention', units=64, attention=score, return_attention=True, **data_kwargs)
    trainer = keras.Model(s2s.inputs, s2s.outputs[0])  # the same layers, probabilities only
    compile_model(trainer, task='seq2seq', lr=3e-3)
    history = trainer.fit(train[0], train[1], batch_size=64, epochs=3 if QUICK else 10, verbose=0)
    _, weights = s2s.predict([t[:1] for t in test[0]], verbose=0)
    anti_diagonal = np.fliplr(weights[0]).diagonal().mean()
    print(f"{score}: training accuracy {history.history['accuracy'][-1]:.3f}, mean weight on the anti-diagonal {anti_diagonal:.2f} (uniform: 0.10)")
    assert anti_diagonal > (0.2 if QUICK else 0.5)
    ax.imshow(weights[0], cmap='viridis', vmin=0, vmax=1)
    ax.set_title(score); ax.set_xlabel('source position'); ax.set_ylabel('target position')
plt.show()

# %% [markdown]
# ## The masks of a Transformer
#
# Token 0 is padding. The encoder's self-attention and the decoder's cross-attention may not attend to padded source positions (the padding mask: a column of zeros per pad); the decoder's self-attention may not look ahead (the causal mask: lower triangular). A decoder query sees the keys where both allow it. kerasdl's `TransformerBlock` builds both from the token ids. White: may attend; black: masked out (a score of −∞ before the softmax).

# %%
source = np.array([7, 3, 12, 9, 0, 0])  # four tokens, two pads
padding = np.broadcast_to(source != 0, (6, 6))
causal = np.tril(np.ones((6, 6), bool))
fig, axes = plt.subplots(1, 3, figsize=(10, 3.5))
for ax, (title, mask) in zip(axes, [('padding mask', padding), ('causal mask', causal), ('padding and causal', padding & causal)]):
    ax.imshow(mask, cmap='Greys_r', vmin=0, vmax=1)
    ax.set_title(title); ax.set_xlabel('key (attended) position'); ax.set_ylabel('query position')
    ax.set_xticks(range(6), source)
plt.show()

# %% [markdown]
# ## A Transformer learns to reverse
#
# Two encoder and two decoder blocks (d_model 64, 4 heads), trained with teacher forcing and decoded greedily, one token at a time. `kerasdl.evaluation` scores the decoded test set: token and whole-sequence accuracy, perplexity (the exponential of the mean cross-entropy per target token: 20 for a uniform guess over 20 tokens, 1 for a certain, right model) and corpus BLEU-4 (the n-gram overlap machine translation is scored by).

# %%
keras.utils.set_random_seed(0)
transformer = kerasdl.build('transformer_seq2seq', d_model=64, num_heads=4, ff_dim=128, dropout=0.0, **data_kwargs)
history, metrics = train_model(transformer, train, test, task='seq2seq', epochs=3 if QUICK else 20, batch_size=64, lr=1e-3, schedule='constant', verbose=0)
for key in ['test_token_accuracy', 'test_sequence_accuracy', 'test_perplexity', 'test_bleu4']:
    print(f'{key:<24} {metrics[key]:.3f}')
assert metrics['test_perplexity'] < (10 if QUICK else 1.1)
plot_history(history, 'transformer_history.png')
