"""Sequence tasks with known answers, generated offline, and greedy decoding.

- `adding_problem` (Hochreiter & Schmidhuber, 1997): sum the two marked numbers of a
  long sequence. Always answering 1.0 scores an MSE of about 0.167.
- `reverse_sequences` / copy: map a token sequence to its reverse (or itself).
- `noisy_periodic`: forecast the next value of a noisy sum of two sines.
- `topic_corpus`: sentences whose words come from one of a few known word clusters
  (the topic is the class; Word2Vec should put each cluster together).
- `skipgram_pairs` / `cbow_windows`: Word2Vec's training data from any tokenized corpus.

Token ids: 0 is padding, 1 is the decoder's start token, real tokens start at 2
(`topic_corpus`: at 1, it has no decoder).
"""

import numpy as np

from kerasdl._checks import check_int

START = 1


def adding_problem(n, length=100, *, seed=0):
    """``x (n, length, 2)``: uniform values and a 0/1 marker on exactly two steps (one in
    each half); ``y (n,)``: the sum of the two marked values."""
    check_int(n, "n")
    check_int(length, "length", minimum=2)
    rng = np.random.default_rng(seed)
    values = rng.random((n, length))
    markers = np.zeros((n, length))
    half = length // 2
    first, second = rng.integers(0, half, n), rng.integers(half, length, n)
    markers[np.arange(n), first] = markers[np.arange(n), second] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    return x, (values * markers).sum(axis=1).astype("float32")


def reverse_sequences(n, length=10, vocab_size=20, *, reverse=True, seed=0):
    """The reverse (or copy) task for encoder-decoders.

    Returns:
        ``([source (n, length), target_in (n, length)], target (n, length))``: tokens are
        drawn from 2..vocab_size-1; `target_in` is the target shifted right after the
        start token (teacher forcing).
    """
    check_int(n, "n")
    check_int(length, "length")
    check_int(vocab_size, "vocab_size", minimum=3)
    rng = np.random.default_rng(seed)
    source = rng.integers(2, vocab_size, (n, length)).astype("int32")
    target = source[:, ::-1].copy() if reverse else source.copy()
    target_in = np.concatenate([np.full((n, 1), START, "int32"), target[:, :-1]], axis=1)
    return [source, target_in], target


def noisy_periodic(n, window=50, *, noise=0.1, seed=0):
    """Windows of ``sin(2 pi t / 25) + 0.5 sin(2 pi t / 7) + noise`` and the next value:
    ``x (n, window, 1)``, ``y (n,)``."""
    check_int(n, "n")
    check_int(window, "window")
    rng = np.random.default_rng(seed)
    t = np.arange(n + window) + rng.uniform(0, 1000)
    series = np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(2 * np.pi * t / 7)
    series = series + noise * rng.standard_normal(len(t))
    idx = np.arange(window)[None, :] + np.arange(n)[:, None]
    return series[idx][..., None].astype("float32"), series[idx[:, -1] + 1].astype("float32")


def topic_corpus(n, *, num_topics=4, words_per_topic=10, length=(5, 12), seed=0):
    """Sentences of words from one topic each, padded with 0 to the longest length.

    Word ``w`` (1..num_topics * words_per_topic) belongs to topic ``(w - 1) // words_per_topic``.

    Returns:
        ``(sentences (n, length[1]), topics (n,))``.
    """
    check_int(n, "n")
    rng = np.random.default_rng(seed)
    topics = rng.integers(0, num_topics, n)
    sentences = np.zeros((n, length[1]), dtype="int32")
    for i, topic in enumerate(topics):
        size = rng.integers(length[0], length[1] + 1)
        sentences[i, :size] = 1 + topic * words_per_topic + rng.integers(0, words_per_topic, size)
    return sentences, topics.astype("int32")


def greedy_decode(model, source, length, *, start=START):
    """Decode `length` tokens for each row of `source` with a teacher-forced
    encoder-decoder (`seq2seq_attention`, `transformer_seq2seq`), one step at a time.

    Returns:
        ``(n, length)`` int32 token ids.
    """
    check_int(length, "length")
    source = np.asarray(source)
    target_in = np.zeros((len(source), length), dtype="int32")
    target_in[:, 0] = start
    for t in range(length):
        probs = model.predict([source, target_in], verbose=0, batch_size=512)
        if isinstance(probs, (list, tuple)):  # return_attention=True
            probs = probs[0]
        tokens = probs[:, t].argmax(axis=-1)
        if t + 1 < length:
            target_in[:, t + 1] = tokens
    return np.concatenate([target_in[:, 1:], tokens[:, None]], axis=1).astype("int32")


def _windows(sequences, window):
    """(centre, context) id pairs of every real token with each neighbour within `window`."""
    pairs = []
    for sentence in sequences:
        words = [int(w) for w in sentence if w]
        for i, w in enumerate(words):
            for j in range(max(0, i - window), min(len(words), i + window + 1)):
                if j != i:
                    pairs.append((w, words[j]))
    return np.array(pairs, dtype="int32").reshape(-1, 2)


def skipgram_pairs(sequences, *, vocab_size, window=2, num_negative=4, seed=0):
    """Training data for `word2vec_skipgram`.

    Every (word, neighbour within `window`) pair is a positive; `num_negative` negatives
    are drawn from the unigram distribution raised to 3/4 (Mikolov et al., 2013).

    Returns:
        ``([targets (N, 1), contexts (N, 1 + num_negative)], labels (N, 1 + num_negative))``.
    """
    check_int(vocab_size, "vocab_size")
    check_int(num_negative, "num_negative")
    pairs = _windows(sequences, check_int(window, "window"))
    counts = np.bincount(np.concatenate([np.asarray(s).ravel() for s in sequences]),
                         minlength=vocab_size)[:vocab_size].astype("float64")
    counts[0] = 0.0
    probs = counts ** 0.75 / np.sum(counts ** 0.75)
    rng = np.random.default_rng(seed)
    negatives = rng.choice(vocab_size, size=(len(pairs), num_negative), p=probs)
    contexts = np.concatenate([pairs[:, 1:], negatives], axis=1).astype("int32")
    labels = np.zeros(contexts.shape, dtype="float32")
    labels[:, 0] = 1.0
    return [pairs[:, :1], contexts], labels


def cbow_windows(sequences, *, window=2):
    """Training data for `word2vec_cbow`: ``(contexts (N, 2 * window), centres (N,))``,
    contexts padded with 0 at sentence edges."""
    check_int(window, "window")
    contexts, centres = [], []
    for sentence in sequences:
        words = [int(w) for w in sentence if w]
        padded = [0] * window + words + [0] * window
        for i, w in enumerate(words):
            around = padded[i:i + window] + padded[i + window + 1:i + 2 * window + 1]
            contexts.append(around)
            centres.append(w)
    return np.array(contexts, dtype="int32"), np.array(centres, dtype="int32")
