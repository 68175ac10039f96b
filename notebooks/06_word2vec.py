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
# # Word2Vec: skip-gram and CBOW
#
# Word vectors learned from which words appear together (Mikolov et al., 2013), trained with `model.fit` on the backend `KERAS_BACKEND` names. The corpus is synthetic so that the answer is known: 2,000 sentences of 5 to 12 words, each sentence drawn from one of four topics of ten words. Words of a topic never appear in one sentence with another topic's, so a good embedding puts each topic together.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import kerasdl
from kerasdl import datasets
from kerasdl.models.word2vec import embeddings, most_similar
from kerasdl.training import compile_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)
TOPICS = {'animals': 'cat dog horse cow sheep goat lion tiger bear wolf',
          'food': 'bread rice pasta soup salad cheese apple pear cake pie',
          'sport': 'football tennis golf rugby hockey chess boxing rowing skiing cycling',
          'music': 'piano violin guitar drum flute cello harp organ trumpet banjo'}
WORDS = ['<pad>'] + ' '.join(TOPICS.values()).split()  # word id w is WORDS[w]; topic (w - 1) // 10
sentences, _ = datasets.load('topics', 'train')
for s in sentences[:3]:
    print(' '.join(WORDS[w] for w in s if w))

# %% [markdown]
# ## Skip-gram with negative sampling
#
# For every word and each neighbour within 2 positions, the model scores `σ(v_word · u_neighbour)` towards 1 and, for 4 words drawn from the unigram distribution to the power 3/4, towards 0.

# %%
(x, y), _, data_kwargs = datasets.load_for_model('word2vec_skipgram')
print('target', x[0][0], 'contexts', x[1][0], 'labels', y[0])
models = {'skip-gram': kerasdl.build('word2vec_skipgram', embed_dim=16, **data_kwargs)}
compile_model(models['skip-gram'], task='binary', lr=1e-2)
history = models['skip-gram'].fit(x, y, batch_size=256, epochs=2 if QUICK else 5, verbose=0)
print('loss per epoch', np.round(history.history['loss'], 3))

# %% [markdown]
# ## Continuous bag of words
#
# CBOW predicts the middle word from the mean of the vectors of its 4 neighbours, with a softmax over the 41 ids.

# %%
(x, y), _, data_kwargs = datasets.load_for_model('word2vec_cbow')
models['CBOW'] = kerasdl.build('word2vec_cbow', embed_dim=16, **data_kwargs)
compile_model(models['CBOW'], lr=1e-2)
history = models['CBOW'].fit(x, y, batch_size=256, epochs=3 if QUICK else 10, verbose=0)
print('loss per epoch', np.round(history.history['loss'], 3), '(a uniform guess: ln 40 = 3.69; the best possible: ln 10 = 2.30, since the neighbours tell the topic, not the word)')

# %% [markdown]
# ## Nearest neighbours by cosine similarity
#
# The share of each word's 5 nearest neighbours from its own topic (1 is perfect; chance is 9/39 = 0.23), and the neighbours of a few words:

# %%
for label, model in models.items():
    same = [(o - 1) // 10 == (w - 1) // 10 for w in range(1, 41) for o, _ in most_similar(model, w, k=5)]
    print(f'{label}: {np.mean(same):.0%} of nearest neighbours share the topic')
    assert np.mean(same) >= 0.9
    for word in ['dog', 'cheese', 'chess', 'violin']:
        neighbours = ', '.join(f'{WORDS[o]} {s:.2f}' for o, s in most_similar(model, WORDS.index(word), k=4))
        print(f'  {word:<7} → {neighbours}')

# %% [markdown]
# ## The vectors in two dimensions
#
# The 16-dimensional vectors projected on their first two principal components, coloured by topic:

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 5))
for ax, (label, model) in zip(axes, models.items()):
    vectors = embeddings(model)[1:]
    vectors = vectors - vectors.mean(axis=0)
    pcs = vectors @ np.linalg.svd(vectors, full_matrices=False)[2][:2].T
    for k, topic in enumerate(TOPICS):
        ax.scatter(*pcs[10 * k:10 * k + 10].T, label=topic)
    for word, (px, py) in zip(WORDS[1:], pcs):
        ax.annotate(word, (px, py), fontsize=7)
    ax.set_title(label)
axes[0].legend()
plt.show()
