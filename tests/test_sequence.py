"""The sequence family: masking, causality, attention weights, data, Word2Vec, bad input."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import datasets, sequences
from kerasdl.layers import TransformerBlock
from kerasdl.models.word2vec import most_similar
from kerasdl.training import compile_model, train_model

TINY_TRANSFORMER = dict(d_model=8, num_heads=2, ff_dim=16, num_layers=1, dropout=0.0)
SEQ2SEQ = {
    "seq2seq_attention": dict(vocab_size=9, num_classes=9, units=8, embed_dim=8),
    "transformer_seq2seq": dict(TINY_TRANSFORMER, vocab_size=9, num_classes=9, max_length=10),
}


def _padded(rng, n, real, total, vocab=9):
    tokens = np.zeros((n, total), dtype="int32")
    tokens[:, :real] = rng.integers(1, vocab, (n, real))
    return tokens


@pytest.mark.parametrize("name,kwargs", [
    ("lstm", dict(vocab_size=9, num_classes=3, classifier_activation="softmax", units=(8, 8))),
    ("bigru", dict(vocab_size=9, num_classes=3, classifier_activation="softmax", units=(8,))),
    ("transformer_classifier", dict(TINY_TRANSFORMER, vocab_size=9, num_classes=3,
                                    max_length=10)),
])
def test_padding_does_not_change_the_output(name, kwargs, rng):
    model = kerasdl.build(name, input_shape=(None,), **kwargs)
    short = _padded(rng, 4, real=5, total=6)
    long = np.pad(short, ((0, 0), (0, 4)))
    np.testing.assert_allclose(model.predict(long, verbose=0), model.predict(short, verbose=0),
                               atol=1e-5)


@pytest.mark.parametrize("name", sorted(SEQ2SEQ))
def test_source_padding_is_ignored_and_the_decoder_is_causal(name, rng):
    model = kerasdl.build(name, input_shape=(None,), **SEQ2SEQ[name])
    source = _padded(rng, 3, real=5, total=6)
    target_in = rng.integers(1, 9, (3, 7)).astype("int32")
    probs = model.predict([source, target_in], verbose=0)
    longer = model.predict([np.pad(source, ((0, 0), (0, 3))), target_in], verbose=0)
    np.testing.assert_allclose(longer, probs, atol=1e-5)

    changed = target_in.copy()
    changed[:, 4:] = (changed[:, 4:] % 8) + 1  # every token from step 4 on is different
    after = model.predict([source, changed], verbose=0)
    np.testing.assert_allclose(after[:, :4], probs[:, :4], atol=1e-6)
    assert np.abs(after[:, 4:] - probs[:, 4:]).max() > 1e-4


@pytest.mark.parametrize("attention", ["bahdanau", "luong", "luong_general"])
@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_attention_weights_are_distributions_over_real_source_tokens(attention, cell, rng):
    model = kerasdl.build("seq2seq_attention", input_shape=(6,), attention=attention, cell=cell,
                          return_attention=True, **SEQ2SEQ["seq2seq_attention"])
    source = _padded(rng, 2, real=4, total=6)
    probs, weights = model.predict([source, rng.integers(1, 9, (2, 5))], verbose=0)
    assert probs.shape == (2, 5, 9) and weights.shape == (2, 5, 6)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)
    assert np.all(weights[..., 4:] == 0.0)


@pytest.mark.backend_independent
def test_adding_problem_answers_and_baseline():
    x, y = sequences.adding_problem(2000, length=100, seed=0)
    assert x.shape == (2000, 100, 2) and np.all(x[..., 1].sum(axis=1) == 2)
    np.testing.assert_allclose(y, (x[..., 0] * x[..., 1]).sum(axis=1), rtol=1e-6)
    assert 0.15 < np.mean((y - 1.0) ** 2) < 0.185  # always answering 1.0 scores ~0.167


@pytest.mark.backend_independent
def test_reverse_task_and_copy_task():
    (source, target_in), target = sequences.reverse_sequences(5, length=10, vocab_size=20)
    assert np.array_equal(target, source[:, ::-1])
    assert np.all(target_in[:, 0] == sequences.START)
    assert np.array_equal(target_in[:, 1:], target[:, :-1])
    assert source.min() >= 2 and source.max() < 20
    (source, _), target = sequences.reverse_sequences(5, reverse=False)
    assert np.array_equal(target, source)


def test_train_model_fits_a_model_of_two_inputs():
    """`train_model` batches a list of inputs (an encoder-decoder's source and shifted
    target) on every backend: TensorFlow's dataset adapter takes no list."""
    keras.utils.set_random_seed(0)
    (source, target_in), target = sequences.reverse_sequences(256, length=6, vocab_size=9)
    model = kerasdl.build("seq2seq_attention", input_shape=(6,), **SEQ2SEQ["seq2seq_attention"])
    history, metrics = train_model(model, ([source, target_in], target),
                                   ([source[:32], target_in[:32]], target[:32]),
                                   task="seq2seq", epochs=8, batch_size=32, lr=1e-2, verbose=0)
    assert history.history["loss"][-1] < 0.9 * history.history["loss"][0]
    assert metrics["test_perplexity"] < 9  # a uniform guess over the 9 tokens


def test_greedy_decode_feeds_each_prediction_back():
    class NextToken:  # predicts "previous token + 1" at every step
        def predict(self, inputs, **_):
            _, target_in = inputs
            return np.eye(30)[target_in + 1]

    decoded = sequences.greedy_decode(NextToken(), np.ones((2, 4), "int32"), length=5)
    assert decoded.tolist() == [[2, 3, 4, 5, 6]] * 2


@pytest.mark.backend_independent
def test_periodic_series_is_predictable_from_its_window():
    x, y = sequences.noisy_periodic(500, window=50, noise=0.0)
    assert x.shape == (500, 50, 1)
    np.testing.assert_allclose(x[1:, -1, 0], y[:-1], atol=1e-6)  # y is the next value


@pytest.mark.backend_independent
def test_topic_corpus_and_word2vec_pairs():
    sentences, topics = sequences.topic_corpus(50, num_topics=4, words_per_topic=10)
    for sentence, topic in zip(sentences, topics):
        words = sentence[sentence > 0]
        assert 5 <= len(words) <= 12 and np.all((words - 1) // 10 == topic)
    [targets, contexts], labels = sequences.skipgram_pairs(sentences, vocab_size=41, window=2,
                                                 num_negative=4)
    assert contexts.shape == labels.shape == (len(targets), 5)
    assert np.all(labels[:, 0] == 1) and np.all(labels[:, 1:] == 0)
    assert np.all((targets[:, 0] - 1) // 10 == (contexts[:, 0] - 1) // 10)  # same sentence
    assert contexts.min() >= 1  # padding is never sampled
    windows, centres = sequences.cbow_windows([[5, 6, 7]], window=2)
    assert windows.tolist() == [[0, 0, 6, 7], [0, 5, 7, 0], [5, 6, 0, 0]]
    assert centres.tolist() == [5, 6, 7]


@pytest.mark.parametrize("name", ["word2vec_skipgram", "word2vec_cbow"])
def test_word2vec_puts_each_topic_together(name):
    keras.utils.set_random_seed(0)
    (x, y), _, kwargs = datasets.load_for_model(name)
    model = kerasdl.build(name, embed_dim=16, **kwargs)
    task = datasets.info(kerasdl.registry.get_spec(name).train.dataset).task
    compile_model(model, task=task, lr=1e-2)
    model.fit(x, y, batch_size=256, epochs=2, verbose=0)
    same = [(other - 1) // 10 == (word - 1) // 10
            for word in range(1, 41) for other, _ in most_similar(model, word, k=5)]
    assert np.mean(same) >= 0.9


@pytest.mark.parametrize("call,match", [
    (lambda: kerasdl.build("transformer_classifier", d_model=30, num_heads=4),
     r"`d_model`=30 must be divisible by `num_heads`=4"),
    (lambda: kerasdl.build("transformer_seq2seq", vocab_size=0), r"`vocab_size` .*received vocab_size=0"),
    (lambda: kerasdl.build("lstm", input_shape=(10,), vocab_size=-3), r"received vocab_size=-3"),
    (lambda: kerasdl.build("transformer_classifier", input_shape=(12,), max_length=10,
                           vocab_size=9, d_model=8, num_heads=2),
     r"Sequence length 12 is longer than the positional table \(max_length=10\)"),
    (lambda: kerasdl.build("seq2seq_attention", cell="transformer"),
     r"`cell` must be one of \['simple_rnn', 'lstm', 'gru'\]; received cell='transformer'"),
    (lambda: kerasdl.build("seq2seq_attention", attention="bahdanu"),
     r"received attention='bahdanu'. Did you mean 'bahdanau'"),
    (lambda: kerasdl.build("gru", input_shape=(100,)),
     r"`input_shape` for gru must be \(length, features\).*received input_shape=\(100,\)"),
    (lambda: kerasdl.build("transformer_classifier", input_shape=(None,), vocab_size=9),
     r"needs `max_length`"),
])
@pytest.mark.backend_independent
def test_bad_sequence_arguments_get_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_decoder_block_refuses_an_encoder_of_another_width():
    x, context = keras.Input((5, 16)), keras.Input((7, 8))
    with pytest.raises(ValueError, match=r"`context` has last dimension 8 but d_model is 16"):
        TransformerBlock(16, 2, 32, causal=True)(x, context=context)


def test_many_to_many_and_the_stacked_rnn_regressor(rng):
    x = rng.random((3, 7, 2)).astype("float32")
    tagger = kerasdl.build("gru", input_shape=(7, 2), num_classes=4, units=(6, 6),
                           return_sequences=True, classifier_activation="softmax")
    assert tagger.predict(x, verbose=0).shape == (3, 7, 4)
    # The textbook time-series regressor: stacked SimpleRNN layers with Dropout between.
    regressor = kerasdl.build("simple_rnn", input_shape=(None, 2), units=(8, 8), dropout=0.2,
                              recurrent_dropout=0.1)
    assert [layer.name for layer in regressor.layers[1:]] == [
        "rnn1", "dropout1", "rnn2", "dropout2", "predictions"]
    assert regressor.predict(x, verbose=0).shape == (3, 1)
    assert regressor.get_layer("predictions").activation.__name__ == "linear"
