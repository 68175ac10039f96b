"""Word2Vec (Mikolov et al., 2013): skip-gram with negative sampling, and CBOW.

Token ids start at 1; 0 is padding. The learned vectors are the ``embedding`` layer's
weights; `most_similar` ranks words by cosine similarity. Their training data come from
`kerasdl.sequences.skipgram_pairs` and `kerasdl.sequences.cbow_windows`.
"""

import keras
import numpy as np
from keras import layers

from kerasdl._checks import check_int
from kerasdl.blocks import finish
from kerasdl.registry import register


def word2vec_skipgram(vocab_size=10000, name="word2vec_skipgram", embed_dim=128,
                      num_negative=4):
    """Skip-gram with negative sampling: does `context` word c occur near `target` word w?

    Inputs ``[target (batch, 1), contexts (batch, 1 + num_negative)]``: the true context
    word first, then sampled negatives (see `kerasdl.sequences.skipgram_pairs`). Output
    ``sigmoid(v_w . u_c)`` for each, trained with binary cross-entropy against
    ``[1, 0, ..., 0]``. Both tables start from N(0, 1/embed_dim), so that the initial
    scores are O(1/sqrt(embed_dim)) rather than vanishing.
    """
    check_int(vocab_size, "vocab_size")
    check_int(embed_dim, "embed_dim")
    check_int(num_negative, "num_negative")
    target = keras.Input(shape=(1,), dtype="int32", name="target")
    contexts = keras.Input(shape=(1 + num_negative,), dtype="int32", name="contexts")
    def table(name):
        init = keras.initializers.RandomNormal(stddev=embed_dim ** -0.5)
        return layers.Embedding(vocab_size, embed_dim, embeddings_initializer=init, name=name)

    w = table("embedding")(target)
    c = table("context_embedding")(contexts)
    scores = layers.Flatten(name="flatten")(layers.Dot(axes=2, name="dot")([w, c]))
    outputs = layers.Activation("sigmoid", name="predictions")(scores)
    return finish([target, contexts], outputs, name=name)


def word2vec_cbow(vocab_size=10000, name="word2vec_cbow", embed_dim=128, window=2):
    """Continuous bag of words: predict the middle word from the mean of its context.

    Input ``(batch, 2 * window)`` context ids (0 = padding at sentence edges, masked);
    output a softmax over the vocabulary (the paper's hierarchical softmax is replaced by
    a full one, fine for small vocabularies).
    """
    check_int(vocab_size, "vocab_size")
    check_int(embed_dim, "embed_dim")
    check_int(window, "window")
    contexts = keras.Input(shape=(2 * window,), dtype="int32", name="contexts")
    x = layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="embedding")(contexts)
    x = layers.GlobalAveragePooling1D(name="mean")(x)
    outputs = layers.Dense(vocab_size, activation="softmax", name="predictions")(x)
    return finish(contexts, outputs, name=name)


def embeddings(model):
    """The learned word vectors (vocab_size, embed_dim) of a Word2Vec model."""
    return keras.ops.convert_to_numpy(model.get_layer("embedding").embeddings)


def most_similar(model, word, k=5):
    """The `k` words closest to `word` (an id) by cosine similarity: [(id, similarity)].

    Padding (id 0) and `word` itself are left out.
    """
    vectors = embeddings(model)
    check_int(word, "word")
    if word >= len(vectors):
        raise ValueError(f"`word`={word} is outside the vocabulary (ids 1..{len(vectors) - 1}).")
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    similarity = unit @ unit[word]
    similarity[[0, word]] = -np.inf
    best = np.argsort(-similarity)[:k]
    return [(int(i), float(similarity[i])) for i in best]


WORD2VEC = dict(vocab_size=41, embed_dim=16)  # the `topics` corpus: 40 words + padding
register(
    "word2vec_skipgram", word2vec_skipgram, family="embedding",
    paper="Mikolov et al. 2013, Distributed representations of words and phrases "
    "(skip-gram, negative sampling)",
    default_input=(1,), min_input=(1,), num_classes=1, params=2_560_000,
    test_kwargs=dict(vocab_size=9, embed_dim=16, num_negative=2),
    train=dict(dataset="topics_skipgram", epochs=5, batch_size=256, lr=1e-2, augment=False,
               model=WORD2VEC),
    width=("embed_dim",), example="skipgram",
)
register(
    "word2vec_cbow", word2vec_cbow, family="embedding",
    paper="Mikolov et al. 2013, Efficient estimation of word representations (CBOW)",
    default_input=(4,), min_input=(2,), num_classes=10000, params=2_570_000,
    test_kwargs=dict(vocab_size=9, embed_dim=16),
    train=dict(dataset="topics_cbow", epochs=10, batch_size=256, lr=1e-2, augment=False,
               model=WORD2VEC),
    width=("embed_dim",), example="cbow",
)
