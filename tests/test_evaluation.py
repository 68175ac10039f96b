"""`kerasdl.evaluation`: every figure against a reference implementation, on this backend."""

import json

import keras
import numpy as np
import pytest
from sklearn import metrics as sk

import kerasdl
from kerasdl import datasets
from kerasdl.evaluation import evaluate, feature_network
from kerasdl.metrics import corpus_bleu, frechet_distance, inception_score, perplexity
from kerasdl.models.gan import GAN
from kerasdl.registry import get_spec


def _fixed(activation, width):
    """A model whose predictions are a known function of its input: activation(x)."""
    return keras.Sequential([keras.Input((width,)), keras.layers.Activation(activation)])


def _probs(rng, n, classes):
    logits = rng.normal(size=(n, classes)).astype("float32") * 2
    return logits, keras.ops.convert_to_numpy(keras.ops.softmax(logits))


def test_classification_figures_equal_scikit_learns(rng, tmp_path):
    logits, probs = _probs(rng, 300, 7)
    y = np.where(rng.random(300) < 0.5, probs.argmax(1), rng.integers(0, 7, 300))
    scores = evaluate(_fixed("softmax", 7), (logits, y), output_dir=tmp_path)
    pred = probs.argmax(1)
    assert scores["task"] == "classification"
    expected = {
        "accuracy": sk.accuracy_score(y, pred),
        "top5_accuracy": sk.top_k_accuracy_score(y, probs, k=5),
        "precision_macro": sk.precision_score(y, pred, average="macro", zero_division=0),
        "recall_macro": sk.recall_score(y, pred, average="macro", zero_division=0),
        "f1_macro": sk.f1_score(y, pred, average="macro", zero_division=0),
        "auc_macro_ovr": sk.roc_auc_score(y, probs.astype("float64"), multi_class="ovr"),
        "loss": sk.log_loss(y, probs.astype("float64"), labels=range(7)),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(scores[name], value, rtol=1e-6, atol=1e-6, err_msg=name)
    for name, fn in (("precision", sk.precision_score), ("recall", sk.recall_score),
                     ("f1", sk.f1_score)):
        np.testing.assert_allclose(scores[f"{name}_per_class"],
                                   fn(y, pred, average=None, zero_division=0), atol=1e-6)
    np.testing.assert_allclose(
        scores["auc_per_class"],
        [sk.roc_auc_score(y == k, probs[:, k].astype("float64")) for k in range(7)], atol=1e-6)
    assert scores["confusion_matrix"] == sk.confusion_matrix(y, pred).tolist()
    assert json.loads((tmp_path / "evaluation.json").read_text())["accuracy"] == scores["accuracy"]
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 5000


def test_binary_and_regression_figures_equal_scikit_learns(rng, tmp_path):
    logits = rng.normal(size=(400, 1)).astype("float32")
    probs = 1 / (1 + np.exp(-logits[:, 0].astype("float64")))
    y = (rng.random(400) < probs).astype("int32")
    scores = evaluate(_fixed("sigmoid", 1), (logits, y), output_dir=tmp_path)
    pred = (probs > 0.5).astype(int)
    assert scores["task"] == "binary"
    for name, value in (("accuracy", sk.accuracy_score(y, pred)),
                        ("precision", sk.precision_score(y, pred)),
                        ("recall", sk.recall_score(y, pred)), ("f1", sk.f1_score(y, pred)),
                        ("auc", sk.roc_auc_score(y, probs))):
        np.testing.assert_allclose(scores[name], value, rtol=1e-6, err_msg=name)
    assert (tmp_path / "roc_curve.png").stat().st_size > 5000

    y_true = rng.normal(1.0, 0.5, 300).astype("float32")
    y_pred = (y_true + rng.normal(0, 0.3, 300)).astype("float32")[:, None]
    scores = evaluate(_fixed("linear", 1), (y_pred, y_true), output_dir=tmp_path)
    assert scores["task"] == "regression"
    for name, value in (("mse", sk.mean_squared_error(y_true, y_pred)),
                        ("rmse", np.sqrt(sk.mean_squared_error(y_true, y_pred))),
                        ("mae", sk.mean_absolute_error(y_true, y_pred)),
                        ("r2", sk.r2_score(y_true, y_pred))):
        np.testing.assert_allclose(scores[name], value, rtol=1e-6, err_msg=name)
    assert (tmp_path / "predicted_vs_true.png").stat().st_size > 5000


@pytest.mark.backend_independent
def test_bleu_equals_nltks_corpus_bleu():
    from nltk.translate.bleu_score import corpus_bleu as nltk_bleu

    refs = [[3, 4, 5, 6, 7, 8, 9], [2, 2, 3, 4, 5], [7, 6, 5, 4, 3, 2, 9, 8]]
    hyps = [[3, 4, 5, 6, 7, 9, 8], [2, 3, 4, 5], [7, 6, 5, 4, 3, 2, 9, 8]]
    np.testing.assert_allclose(corpus_bleu(refs, hyps), nltk_bleu([[r] for r in refs], hyps),
                               rtol=1e-12)
    assert corpus_bleu(refs, refs) == 1.0
    assert corpus_bleu([[1, 2, 3, 4]], [[4, 3, 2, 1]]) == 0.0


def test_perplexity_is_exp_mean_cross_entropy_without_padding(rng):
    # p(true token) = 1/2 and 1/4; the padded third token must not count.
    assert perplexity(-np.log([[0.5, 0.25, 0.01]]), [[1, 1, 0]]) == pytest.approx(np.sqrt(8))
    # End to end on a seq2seq model: the same figure from its teacher-forced predictions.
    spec = get_spec("seq2seq_attention")
    model = kerasdl.build("seq2seq_attention", **spec.test_kwargs)
    x, y = kerasdl.sequences.reverse_sequences(8, spec.test_kwargs["input_shape"][0],
                                               spec.test_kwargs["vocab_size"])
    scores = evaluate(model, (x, y))
    probs = model.predict(x, verbose=0)
    chosen = np.take_along_axis(probs, y[..., None], axis=-1)[..., 0]
    assert scores["task"] == "seq2seq"
    np.testing.assert_allclose(scores["perplexity"], np.exp(-np.log(chosen).mean()), rtol=1e-5)
    # token and sequence accuracy and BLEU of the greedy decoding, by hand
    decoded = kerasdl.sequences.greedy_decode(model, x[0], y.shape[1])
    mask = y != 0
    assert scores["token_accuracy"] == pytest.approx((decoded == y)[mask].mean(), abs=1e-6)
    assert scores["sequence_accuracy"] == pytest.approx(
        ((decoded == y) | ~mask).all(axis=1).mean(), abs=1e-6)
    assert scores["bleu4"] == pytest.approx(corpus_bleu(
        [row[row != 0].tolist() for row in y], [row[row != 0].tolist() for row in decoded]))


@pytest.fixture(scope="module")
def digits():
    return datasets.load("mnist_5k", "test")


def test_fid_and_inception_score_order_real_blurred_and_noise(digits):
    x, y = digits
    features, probs = feature_network().predict(x, verbose=0)
    half = len(x) // 2
    same = frechet_distance(features[:half], features[half:])
    kernel = np.ones(5) / 5  # a 5x5 box blur
    blurred = np.apply_along_axis(np.convolve, 1, x, kernel, mode="same")
    blurred = np.apply_along_axis(np.convolve, 2, blurred, kernel, mode="same")
    noise = np.random.default_rng(0).random(x[:half].shape).astype("float32")
    blur_fid = frechet_distance(features[:half], feature_network().predict(
        blurred[half:], verbose=0)[0])
    noise_fid = frechet_distance(features[:half], feature_network().predict(noise, verbose=0)[0])
    assert 3 * same < blur_fid < noise_fid / 3, (same, blur_fid, noise_fid)
    assert frechet_distance(features, features) == pytest.approx(0, abs=1e-6)
    # The feature network is the shipped classifier: 98.5% of the test digits.
    assert (probs.argmax(1) == y).mean() >= 0.98
    assert 9.0 < inception_score(probs) <= 10.0
    assert inception_score(np.full((5, 10), 0.1)) == pytest.approx(1.0)


def _drawing_real_digits(untrained, x, y):
    """`untrained`'s GAN with a generator that draws, for each asked label, a real test
    digit of that label (one of 20, chosen by the noise): a known good generator."""
    per_label = np.stack([x[y == k][:20] for k in range(10)])  # (10, 20, 28, 28, 1)
    table = keras.layers.Embedding(200, 784, trainable=False)
    z, labels = keras.Input((4,)), keras.Input((), dtype="int32")
    pick = keras.ops.cast(keras.ops.floor(keras.ops.sigmoid(z[:, 0]) * 19.99), "int32")
    images = keras.layers.Reshape((28, 28, 1))(table(labels * 20 + pick))
    generator = keras.Model([z, labels], images)
    table.set_weights([2.0 * per_label.reshape(200, 784) - 1.0])  # the tanh range
    return GAN(generator, untrained.discriminator, latent_dim=4, num_classes=10, seed=0)


def test_gan_evaluation_reports_fid_and_the_asked_digit_rate(digits, tmp_path):
    x, y = digits
    keras.utils.set_random_seed(0)
    gan = kerasdl.build("cgan", generator_units=(8,), discriminator_units=(8,), latent_dim=4)
    untrained = evaluate(gan, (x[:200], y[:200]), num_samples=100)
    good = evaluate(_drawing_real_digits(gan, x, y), (x[200:400], y[200:400]),
                    output_dir=tmp_path, num_samples=100)
    assert untrained["task"] == good["task"] == "adversarial"
    # the classifier names the asked digit: nearly always for real digits, by chance for
    # an untrained generator
    assert good["class_accuracy"] >= 0.9 and untrained["class_accuracy"] <= 0.3
    assert min(good["class_accuracy_per_class"]) >= 0.5
    assert len(good["class_accuracy_per_class"]) == 10
    assert good["fid"] < untrained["fid"] / 3, (good["fid"], untrained["fid"])
    assert good["classes_generated"] == 10
    assert (tmp_path / "samples_per_class.png").stat().st_size > 5000


def test_reconstruction_figures_and_vae_elbo(rng, tmp_path):
    x = rng.random((6, 8, 8, 1)).astype("float32")
    identity = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Identity()])
    scores = evaluate(identity, x, task="reconstruction", output_dir=tmp_path)
    assert scores["mse"] == 0 and scores["psnr"] == pytest.approx(120)  # the 1e-12 floor
    half = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Rescaling(0.5)])
    expected = np.mean(10 * np.log10(1 / np.mean((x / 2).reshape(6, -1) ** 2, axis=1)))
    assert evaluate(half, x, task="reconstruction")["psnr"] == pytest.approx(expected, rel=1e-5)

    vae = kerasdl.build("vae", seed=0, **get_spec("vae").test_kwargs)
    vae.compile(optimizer="adam")
    scores = evaluate(vae, x, output_dir=tmp_path)
    assert scores["task"] == "variational"
    keras_loss = vae.evaluate(x, batch_size=6, verbose=0, return_dict=True)["loss"]
    assert scores["negative_elbo_nats"] == pytest.approx(keras_loss, rel=0.05)  # one z each
    assert (tmp_path / "samples.png").exists() and (tmp_path / "reconstructions.png").exists()


@pytest.mark.parametrize("call,match", [
    (lambda m: evaluate(m, np.zeros((4, 5), "float32")),
     r"examples have shape \(5,\), the model takes \(3,\)"),
    (lambda m: evaluate(m, (np.zeros((4, 3)), np.zeros(4)), task="ranking"),
     r"`task` must be one of .*received task='ranking'"),
    (lambda m: evaluate(m, (np.zeros((4, 3)), np.full(4, 7))), r"labels must lie in \[0, 2\]"),
])
@pytest.mark.backend_independent
def test_evaluation_errors_name_the_problem(call, match):
    with pytest.raises(ValueError, match=match):
        call(_fixed("softmax", 3))
