"""Evaluation the textbook's way, after `fit`: `evaluate(model, data, task=None)`.

Every task also reports `loss`: what it trains on (cross-entropy, MSE, the negative ELBO),
except a GAN, whose losses measure its two networks against each other.

- classification: accuracy, top-5 (more than 5 classes), precision / recall / F1 per
  class and macro, one-vs-rest ROC AUC, a confusion matrix;
- binary: accuracy, precision, recall, F1, ROC AUC and the ROC curve;
- regression: MSE, RMSE, MAE, R^2, predicted against true;
- seq2seq: token and whole-sequence accuracy under greedy decoding, perplexity
  (padding excluded), corpus BLEU-4;
- segmentation: pixel accuracy, IoU and Dice per class and their means, and a figure of
  images over their true and predicted masks;
- detection (a `kerasdl.detection` grid detector, YOLO): AP per class at IoU 0.5, mAP@0.5
  and COCO's mAP@[.5:.95] (pycocotools' `COCOeval`) of the boxes left by non-maximum
  suppression, a precision-recall curve and images with true and predicted boxes;
- reconstruction: MSE and PSNR (and, for a denoising autoencoder, PSNR of noisy inputs
  before and after); variational: the negative ELBO in nats;
- adversarial: FID and Inception Score against the real test images, computed with a
  LeNet-5 that kerasdl trained on `mnist_5k` (its weights ship in the package; regenerate
  them with ``python -m kerasdl.feature_network``); a conditional GAN also gets the share of
  samples that this classifier labels as the digit asked for.

The figures come from Keras's own metrics (`Precision`, `Recall`, `F1Score`, `AUC`,
`R2Score`, ...); what Keras lacks (the confusion matrix, PSNR, BLEU, FID, IS) is computed
in NumPy/SciPy (`kerasdl.metrics`), so a figure is the same on every backend.
Segmentation's IoU and Dice are computed from the confusion matrix of all the pixels
(`kerasdl.metrics.segmentation_scores`; Keras's `MeanIoU` during training).
"""

import functools
import json
import math
import os

import keras
import numpy as np
from keras import ops

from kerasdl import detection
from kerasdl._checks import check_choice
from kerasdl.building import build
from kerasdl.metrics import (corpus_bleu, detection_scores, flat, frechet_distance,
                             inception_score, perplexity, psnr, segmentation_scores)
from kerasdl.sequences import greedy_decode

EVALUATED_TASKS = ("classification", "binary", "regression", "seq2seq", "reconstruction",
                   "variational", "adversarial", "segmentation", "detection")
FEATURE_WEIGHTS = os.path.join(os.path.dirname(__file__), "assets", "lenet5_mnist5k.weights.h5")
FEATURE_SHAPE = (28, 28, 1)


def evaluate(model, data, task=None, *, output_dir=None, batch_size=256, num_samples=1000,
             seed=0):
    """Evaluate `model` on `data` with the metrics of its task; write figures.

    Args:
        model: a trained `keras.Model` (a GAN or VAE included).
        data: ``(x, y)``; ``x`` alone (or ``(x,)``) for autoencoders, VAEs and GANs, whose
            `x` are real images in [0, 1] (a conditional GAN: ``(x, labels)``). A
            multi-input model takes a list of arrays as `x`.
        task: one of `EVALUATED_TASKS`; None: inferred from the model and the data.
        output_dir: if given, ``evaluation.json`` and the task's figures are written there.
        num_samples: how many samples a GAN generates for FID and IS.
        seed: seeds a GAN's noise and a denoising autoencoder's test noise.

    Returns:
        A dict of figures (floats, and lists for per-class figures).
    """
    x, y = _unpack(data)
    task = check_choice(task, "task", EVALUATED_TASKS) if task else infer_task(model, x, y)
    _check_shapes(model, x)
    figures = {}
    scores = _EVALUATORS[task](model, x, y, batch_size=batch_size, figures=figures,
                               num_samples=num_samples, seed=seed)
    scores = {"task": task, **scores}
    if output_dir is not None:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "evaluation.json"), "w") as f:
            json.dump(scores, f, indent=2)
        for name, draw in figures.items():
            _save_figure(draw, os.path.join(output_dir, f"{name}.png"))
    return scores


def infer_task(model, x, y):
    """The task of `model` on ``(x, y)``: the one a model class declares (a GAN's
    ``task = "adversarial"``, a VAE's "variational"), else a two-input encoder-decoder
    with sequence outputs, an autoencoder (no targets), a map of labels per pixel, or by
    the output width and labels."""
    if getattr(model, "task", None) in EVALUATED_TASKS:
        return model.task
    if detection.layout(model) is not None:
        return "detection"
    output_shape = tuple(model.outputs[0].shape)
    if len(model.inputs) == 2 and len(output_shape) == 3:
        return "seq2seq"
    if y is None:
        return "reconstruction"
    if len(output_shape) == 4 and np.ndim(y) == 3:
        return "segmentation"
    if len(output_shape) == 1 or output_shape[-1] == 1:
        labels = np.asarray(y)
        binary = np.issubdtype(labels.dtype, np.integer) and set(np.unique(labels)) <= {0, 1}
        return "binary" if binary else "regression"
    return "classification"


# -- the tasks ------------------------------------------------------------------------

def _classification(model, x, y, *, batch_size, figures, **_):
    probs = _first(model.predict(x, batch_size=batch_size, verbose=0))
    labels = np.asarray(y).astype("int64").reshape(-1)
    classes = probs.shape[-1]
    _check_labels(labels, classes)
    true_1h, pred_1h = np.eye(classes)[labels], np.eye(classes)[probs.argmax(-1)]
    precision = [_result(keras.metrics.Precision(class_id=k), true_1h, pred_1h)
                 for k in range(classes)]
    recall = [_result(keras.metrics.Recall(class_id=k), true_1h, pred_1h) for k in range(classes)]
    f1 = _result(keras.metrics.F1Score(average=None), true_1h, probs)
    present = [k for k in range(classes) if 0 < true_1h[:, k].sum() < len(labels)]
    auc = {k: _auc(true_1h[:, k], probs[:, k])[0] for k in present}
    scores = {
        "loss": _mean_loss(keras.losses.sparse_categorical_crossentropy(labels, probs)),
        "accuracy": _result(keras.metrics.SparseCategoricalAccuracy(), labels, probs),
    }
    if classes > 5:
        scores["top5_accuracy"] = _result(keras.metrics.SparseTopKCategoricalAccuracy(k=5),
                                          labels, probs)
    confusion = np.bincount(classes * labels + probs.argmax(-1), minlength=classes ** 2)
    confusion = confusion.reshape(classes, classes)
    scores.update(
        precision_macro=float(np.mean(precision)), recall_macro=float(np.mean(recall)),
        f1_macro=_result(keras.metrics.F1Score(average="macro"), true_1h, probs),
        auc_macro_ovr=float(np.mean(list(auc.values()))) if auc else float("nan"),
        precision_per_class=precision, recall_per_class=recall,
        f1_per_class=[float(v) for v in f1],
        auc_per_class=[auc.get(k, float("nan")) for k in range(classes)],
        confusion_matrix=confusion.tolist())
    figures["confusion_matrix"] = functools.partial(_plot_confusion, confusion)
    return scores


def _binary(model, x, y, *, batch_size, figures, **_):
    probs = _first(model.predict(x, batch_size=batch_size, verbose=0)).reshape(-1, 1)
    labels = np.asarray(y).astype("float32").reshape(-1, 1)
    _check_labels(labels, 2)
    auc, curve = _auc(labels[:, 0], probs[:, 0])
    scores = {
        "loss": _mean_loss(keras.losses.binary_crossentropy(labels, probs)),
        "accuracy": _result(keras.metrics.BinaryAccuracy(), labels, probs),
        "precision": _result(keras.metrics.Precision(), labels, probs),
        "recall": _result(keras.metrics.Recall(), labels, probs),
        "f1": float(_result(keras.metrics.F1Score(threshold=0.5), labels, probs)[0]),
        "auc": auc,
    }
    figures["roc_curve"] = functools.partial(_plot_roc, *curve, auc)
    return scores


def _regression(model, x, y, *, batch_size, figures, **_):
    pred = _first(model.predict(x, batch_size=batch_size, verbose=0)).reshape(len(y), -1)
    true = np.asarray(y, dtype="float32").reshape(len(y), -1)
    mse = _result(keras.metrics.MeanSquaredError(), true, pred)
    scores = {
        "loss": mse,  # what the regression task trains on
        "mse": mse,
        "rmse": _result(keras.metrics.RootMeanSquaredError(), true, pred),
        "mae": _result(keras.metrics.MeanAbsoluteError(), true, pred),
        "r2": _result(keras.metrics.R2Score(), true, pred),
    }
    figures["predicted_vs_true"] = functools.partial(_plot_scatter, true[:, 0], pred[:, 0])
    return scores


def _seq2seq(model, x, y, *, batch_size, **_):
    source, target = x[0], np.asarray(y)
    mask = (target != 0).astype("float32")  # 0 is padding
    probs = _first(model.predict(x, batch_size=batch_size, verbose=0))
    cross_entropy = ops.convert_to_numpy(
        keras.losses.sparse_categorical_crossentropy(target, probs))
    decoded = greedy_decode(model, source, target.shape[1])
    correct = (decoded == target) | (mask == 0)
    return {
        "loss": float((cross_entropy * mask).sum() / mask.sum()),  # nats per target token
        "perplexity": perplexity(cross_entropy, mask),
        "token_accuracy": _result(keras.metrics.Accuracy(), target, decoded, mask),
        "sequence_accuracy": float(correct.all(axis=1).mean()),
        "bleu4": corpus_bleu([row[row != 0].tolist() for row in target],
                             [row[row != 0].tolist() for row in decoded]),
    }


def _reconstruction(model, x, y, *, batch_size, figures, seed, **_):
    recon = model.predict(x, batch_size=batch_size, verbose=0)
    scores = {"loss": _mean_loss(keras.losses.binary_crossentropy(flat(x), flat(recon))),
              "mse": _result(keras.metrics.MeanSquaredError(), flat(x), flat(recon)),
              "psnr": psnr(x, recon)}
    noise = _noise_stddev(model)
    if noise:  # a denoising autoencoder: how much it cleans the noise it was trained on
        noisy = np.clip(x + noise * np.random.default_rng(seed).standard_normal(x.shape),
                        0, 1).astype("float32")
        scores.update(noise_stddev=noise, psnr_noisy_input=psnr(x, noisy),
                      psnr_denoised=psnr(x, model.predict(noisy, batch_size=batch_size,
                                                          verbose=0)))
    figures["reconstructions"] = functools.partial(_plot_grid, _interleave(x, recon), 2)
    return scores


def _variational(model, x, y, *, batch_size, figures, **_):
    recon = model.predict(x, batch_size=batch_size, verbose=0)
    figures["reconstructions"] = functools.partial(_plot_grid, _interleave(x, recon), 2)
    figures["samples"] = functools.partial(_plot_grid, model.sample(100), 10)
    elbo = model.negative_elbo(x, batch_size=batch_size)
    return {"loss": elbo, "negative_elbo_nats": elbo,
            "mse": _result(keras.metrics.MeanSquaredError(), flat(x), flat(recon)),
            "psnr": psnr(x, recon)}


def _adversarial(model, x, y, *, batch_size, figures, num_samples, seed, **_):
    if tuple(x.shape[1:]) != FEATURE_SHAPE:
        raise ValueError(
            f"FID and the Inception Score need {FEATURE_SHAPE} digit images (the feature "
            f"network is a LeNet-5 trained on MNIST); {model.name} makes samples of shape "
            f"{tuple(x.shape[1:])}.")
    keras.utils.set_random_seed(seed)
    labels = np.arange(num_samples, dtype="int32") % model.num_classes \
        if model.num_classes else None
    fake = np.clip((model.generate(num_samples, labels) + 1.0) / 2.0, 0.0, 1.0)
    real_features, real_probs = feature_network().predict(x, batch_size=batch_size, verbose=0)
    fake_features, fake_probs = feature_network().predict(fake, batch_size=batch_size,
                                                          verbose=0)
    predicted = fake_probs.argmax(-1)
    scores = {"fid": frechet_distance(real_features, fake_features),
              "inception_score": inception_score(fake_probs),
              "inception_score_real": inception_score(real_probs),
              "classes_generated": int(len(np.unique(predicted))),
              "num_samples": num_samples}
    if labels is not None:
        hits = predicted == labels
        scores["class_accuracy"] = float(hits.mean())
        scores["class_accuracy_per_class"] = [float(hits[labels == k].mean())
                                              for k in range(model.num_classes)]
        order = np.argsort(labels[:100], kind="stable")  # one row per asked digit
        figures["samples_per_class"] = functools.partial(_plot_grid, fake[:100][order], 10)
    else:
        figures["samples"] = functools.partial(_plot_grid, fake[:100], 10)
    return scores


def _segmentation(model, x, y, *, batch_size, figures, **_):
    probs = _first(model.predict(x, batch_size=batch_size, verbose=0))
    masks = np.asarray(y).astype("int64")
    if masks.shape != probs.shape[:-1]:
        raise ValueError(f"The masks must have the shape of {model.name}'s output less its "
                         f"class axis, {probs.shape[1:-1]} per image; received masks of "
                         f"shape {masks.shape[1:]}.")
    classes = max(probs.shape[-1], 2)  # one sigmoid: background and object
    _check_labels(masks, classes)
    predicted = (probs[..., 0] > 0.5).astype("int64") if probs.shape[-1] == 1 \
        else probs.argmax(-1)
    loss = keras.losses.binary_crossentropy(masks[..., None], probs) if probs.shape[-1] == 1 \
        else keras.losses.sparse_categorical_crossentropy(masks, probs)
    figures["masks"] = functools.partial(_plot_masks, x[:6], masks[:6], predicted[:6], classes)
    return {"loss": _mean_loss(loss), **segmentation_scores(masks, predicted, classes)}


def _detection(model, x, y, *, batch_size, figures, **_):
    image_size, grid, boxes_per_cell, num_classes = detection.layout(model, required=True)
    boxes = np.asarray(y, dtype="float32")
    targets = detection.encode(boxes, image_size=image_size, grid=grid,
                               num_classes=num_classes)  # checks the boxes
    outputs = _first(model.predict(x, batch_size=batch_size, verbose=0))
    detected = detection.detections_list(detection.non_max_suppression(
        *detection.decode(outputs, image_size=image_size, boxes_per_cell=boxes_per_cell)))
    scores = detection_scores(list(boxes), detected, num_classes)
    loss = detection.YoloLoss(boxes_per_cell, num_classes, reduction=None)(targets, outputs)
    figures["precision_recall"] = functools.partial(_plot_precision_recall,
                                                    scores["precision_50"], scores["map_50"])
    figures["detections"] = functools.partial(_plot_boxes, x[:8], boxes[:8], detected[:8])
    return {"loss": _mean_loss(loss), **scores}


def dense_predictions(outputs, x, *, boxes_per_cell=None, overlay=None):
    """What a detector's or a segmenter's raw `outputs` on images `x` say (what
    `kerasdl predict` prints), or None for any other model's.

    A detector's (`boxes_per_cell`: its B) are decoded and suppressed
    (`kerasdl.detection`): ``{"detections": per image, rows (x1, y1, x2, y2, score,
    class) in pixels}``. A segmenter's -- class probabilities per pixel, as high and wide
    as `x`, summing to 1 (unet's softmax) -- give ``{"masks": per image, the class of
    each pixel}``. With `overlay` (a path), the images with them drawn are saved there.
    """
    outputs = np.asarray(outputs)
    if boxes_per_cell is not None:
        found = detection.detections_list(detection.non_max_suppression(*detection.decode(
            outputs, image_size=x.shape[1:3], boxes_per_cell=boxes_per_cell)))
        result = {"detections": [np.round(rows.astype("float64"), 4).tolist()
                                 for rows in found]}
        draw = functools.partial(_plot_boxes, x[:8], None, found[:8])
    elif outputs.ndim == 4 and outputs.shape[1:3] == x.shape[1:3] and outputs.shape[-1] > 1 \
            and np.allclose(outputs.sum(-1), 1, atol=1e-3):
        masks = outputs.argmax(-1)
        result = {"masks": masks.tolist()}
        draw = functools.partial(_plot_masks, x[:8], None, masks[:8], outputs.shape[-1])
    else:
        return None
    if overlay is not None:
        _save_figure(draw, overlay)
    return result


_EVALUATORS = {"classification": _classification, "binary": _binary,
               "regression": _regression, "seq2seq": _seq2seq,
               "reconstruction": _reconstruction, "variational": _variational,
               "adversarial": _adversarial, "segmentation": _segmentation,
               "detection": _detection}


# -- the feature network ----------------------------------------------------------------

@functools.cache
def feature_network(path=FEATURE_WEIGHTS):
    """kerasdl's LeNet-5 for 28x28x1 digits, as a model with two outputs: the 84
    penultimate (F6) features and the class probabilities."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"The feature network's weights are missing: {path}. "
                                f"Regenerate them with `python -m kerasdl.feature_network`.")
    model = build("lenet5", input_shape=FEATURE_SHAPE, num_classes=10)
    model.load_weights(path)
    return keras.Model(model.inputs, [model.get_layer("fc2").output, model.output])


# -- helpers --------------------------------------------------------------------------

def _unpack(data):
    if isinstance(data, tuple):
        if len(data) not in (1, 2):
            raise ValueError(f"`data` must be (x, y), (x,) or x; received a tuple of "
                             f"{len(data)} items.")
        return data[0], data[1] if len(data) == 2 else None
    return data, None


def _inputs(model):
    for part in ("discriminator", "encoder"):  # GAN, VAE: the real data go in here
        if hasattr(model, part):
            return getattr(model, part).inputs[:1]
    return model.inputs


def _check_shapes(model, x):
    arrays = x if isinstance(x, list) else [x]
    inputs = _inputs(model)
    if len(arrays) != len(inputs) and not hasattr(model, "discriminator"):
        raise ValueError(f"`data` holds {len(arrays)} input array(s); {model.name} takes "
                         f"{len(inputs)}.")
    for array, tensor in zip(arrays, inputs):
        got, want = tuple(np.shape(array)[1:]), tuple(tensor.shape[1:])
        if len(got) != len(want) or any(w is not None and w != g for g, w in zip(got, want)):
            raise ValueError(f"`data` does not fit {model.name}: its examples have shape "
                             f"{got}, the model takes {want}.")


def _check_labels(labels, classes):
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must lie in [0, {classes - 1}] for a model with {classes} "
                         f"outputs; received labels from {labels.min()} to {labels.max()}.")


def _first(outputs):
    """The prediction of a model that may also output attention weights."""
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def _result(metric, y_true, y_pred, sample_weight=None):
    metric.update_state(y_true, y_pred, sample_weight=sample_weight)
    value = ops.convert_to_numpy(metric.result())
    return float(value) if np.ndim(value) == 0 else value.tolist()


def _mean_loss(values):
    return float(np.mean(ops.convert_to_numpy(values)))


def _auc(labels, scores):
    """Keras's ROC AUC at every distinct score as a threshold, which makes it exact (the
    trapezoids between all the ROC curve's points); also the curve (fpr, tpr)."""
    metric = keras.metrics.AUC(thresholds=np.unique(scores).tolist())
    for start in range(0, len(labels), 512):
        metric.update_state(labels[start:start + 512], scores[start:start + 512])
    tp, fp, tn, fn = (ops.convert_to_numpy(v) for v in (
        metric.true_positives, metric.false_positives, metric.true_negatives,
        metric.false_negatives))
    return float(ops.convert_to_numpy(metric.result())), (fp / (fp + tn), tp / (tp + fn))


def _noise_stddev(model):
    noise = [layer for layer in model.layers if isinstance(layer, keras.layers.GaussianNoise)]
    return float(noise[0].stddev) if noise else 0.0


def _interleave(x, recon, n=10):
    """Ten inputs above their ten reconstructions."""
    return np.concatenate([x[:n], recon[:n]])


def _save_figure(draw, path):
    """``draw(subplots)`` on a figure of its own, saved to `path`: not through pyplot, so
    that the caller's backend (a notebook's inline figures) is left as it is."""
    from matplotlib.figure import Figure

    def subplots(*args, figsize=None, **kwargs):
        fig = Figure(figsize=figsize)
        return fig, fig.subplots(*args, **kwargs)

    draw(subplots).savefig(path, dpi=80)


def _plot_confusion(confusion, subplots):
    fig, ax = subplots(figsize=(5, 4.5))
    image = ax.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(j, i, count, ha="center", va="center", fontsize=7,
                color="white" if count > confusion.max() / 2 else "black")
    if len(confusion) <= 20:
        ax.set_xticks(range(len(confusion)))
        ax.set_yticks(range(len(confusion)))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix (test)")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    return fig


def _plot_roc(fpr, tpr, auc, subplots):
    fig, ax = subplots(figsize=(4.5, 4.5))
    ax.plot(fpr, tpr, label=f"AUC {auc:.3f}")
    ax.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def _plot_scatter(true, pred, subplots):
    fig, ax = subplots(figsize=(4.5, 4.5))
    ax.scatter(true, pred, s=4, alpha=0.5)
    low, high = min(true.min(), pred.min()), max(true.max(), pred.max())
    ax.plot([low, high], [low, high], "k--", linewidth=0.8)
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    fig.tight_layout()
    return fig


def _plot_masks(images, true, predicted, classes, subplots):
    """Images in the first row, their true masks below (if given), the predicted ones last."""
    rows = [(images, "image")] + ([(true, "true")] if true is not None else []) \
        + [(predicted, "predicted")]
    fig, axes = subplots(len(rows), len(images), figsize=(1.6 * len(images), 1.7 * len(rows)),
                         squeeze=False)
    for column, parts in enumerate(zip(*(part for part, _ in rows))):
        for row, (part, title) in enumerate(zip(parts, (title for _, title in rows))):
            ax = axes[row, column]
            ax.axis("off")
            if row == 0:
                ax.imshow(np.squeeze(part), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(part, cmap="tab20" if classes > 2 else "gray", vmin=0,
                          vmax=max(classes - 1, 1), interpolation="nearest")
            if column == 0:
                ax.set_title(title, fontsize=8, loc="left")
    fig.tight_layout(pad=0.2)
    return fig


def _plot_precision_recall(precision, ap, subplots):
    fig, ax = subplots(figsize=(4.5, 4.5))
    ax.plot(np.linspace(0, 1, len(precision)), precision, label=f"mAP@0.5 {ap:.3f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision (interpolated, mean over classes)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def _plot_boxes(images, true, detected, subplots, score_threshold=0.3):
    """Images with their true boxes (green; `true` may be None) and the detections
    scoring above `score_threshold` (red, labelled with class and score)."""
    from matplotlib.patches import Rectangle

    fig, axes = subplots(1, len(images), figsize=(1.8 * len(images), 2.1), squeeze=False)
    if true is None:
        true = [np.zeros((0, 5))] * len(images)
    for ax, image, truth, found in zip(axes[0], images, true, detected):
        ax.axis("off")
        ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)
        for rows, colour in ((truth[truth[:, 4] >= 0], "lime"),
                             (found[found[:, 4] > score_threshold], "red")):
            for row in rows:
                x1, y1, x2, y2 = row[:4] - 0.5  # pixel edges
                ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False,
                                       edgecolor=colour, linewidth=1))
                if colour == "red":
                    ax.text(x1, y1, f"{int(row[5])} {row[4]:.2f}", color="red", fontsize=6,
                            va="bottom")
    fig.tight_layout(pad=0.2)
    return fig


def _plot_grid(images, columns, subplots):
    rows = math.ceil(len(images) / columns)
    fig, axes = subplots(rows, columns, figsize=(columns * 0.8, rows * 0.8), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, images):
        ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)
    fig.tight_layout(pad=0.1)
    return fig
