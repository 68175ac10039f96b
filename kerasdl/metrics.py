"""The figures Keras does not compute, in NumPy and SciPy: perplexity, corpus BLEU, PSNR,
the Fréchet distance (FID) and the Inception Score. They take arrays, not models, so
they are the same on every backend and need no Keras."""

import collections
import math

import numpy as np
import scipy.linalg


def perplexity(cross_entropy, mask=None):
    """exp of the mean per-token cross-entropy (nats) over the tokens where `mask` is 1."""
    cross_entropy = np.asarray(cross_entropy, dtype="float64")
    mask = np.ones_like(cross_entropy) if mask is None else np.asarray(mask, dtype="float64")
    return float(np.exp((cross_entropy * mask).sum() / mask.sum()))


def corpus_bleu(references, hypotheses, max_n=4):
    """Corpus BLEU (Papineni et al., 2002): the geometric mean of the clipped n-gram
    precisions (n = 1..`max_n`, summed over the corpus) times the brevity penalty; one
    reference per hypothesis, sequences of tokens. 0 when some order has no match."""
    if len(references) != len(hypotheses):
        raise ValueError(f"`references` and `hypotheses` must pair up; received "
                         f"{len(references)} references and {len(hypotheses)} hypotheses.")
    matches, totals = np.zeros(max_n), np.zeros(max_n)
    ref_length = hyp_length = 0
    for ref, hyp in zip(references, hypotheses):
        ref_length, hyp_length = ref_length + len(ref), hyp_length + len(hyp)
        for n in range(1, max_n + 1):
            ref_counts = _ngrams(ref, n)
            hyp_counts = _ngrams(hyp, n)
            matches[n - 1] += sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_length == 0 or matches.min() == 0:
        return 0.0
    brevity = 1.0 if hyp_length > ref_length else math.exp(1 - ref_length / hyp_length)
    return float(brevity * math.exp(np.mean(np.log(matches / totals))))


def _ngrams(tokens, n):
    return collections.Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def psnr(x, reconstruction, data_range=1.0):
    """Peak signal-to-noise ratio in dB, per image, averaged."""
    mse = np.mean(np.square(flat(x) - flat(reconstruction)), axis=1)
    return float(np.mean(10 * np.log10(data_range ** 2 / np.maximum(mse, 1e-12))))


def frechet_distance(features_a, features_b, eps=1e-6):
    """The Fréchet distance between Gaussians fitted to two feature sets (FID, Heusel et
    al., 2017): |mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)). If the product's
    square root is not finite, `eps` is added to both diagonals first (the usual guard)."""
    a, b = np.asarray(features_a, "float64"), np.asarray(features_b, "float64")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():
        offset = eps * np.eye(len(mu_a))
        root = scipy.linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root.real))


def inception_score(probs, eps=1e-12):
    """exp(E_x KL(p(y|x) || p(y))) (Salimans et al., 2016) of class probabilities."""
    probs = np.asarray(probs, "float64")
    marginal = probs.mean(0, keepdims=True)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(1)
    return float(np.exp(kl.mean()))


def flat(x):
    """`x` as (rows, values): each image or sequence one row."""
    return np.asarray(x, "float32").reshape(len(x), -1)
