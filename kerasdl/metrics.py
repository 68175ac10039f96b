"""The figures Keras does not compute, in NumPy and SciPy: perplexity, corpus BLEU, PSNR,
the Fréchet distance (FID), the Inception Score, segmentation's IoU and Dice, and
detection's average precision (through pycocotools, the benchmark's own code). They take
arrays, not models, so they are the same on every backend and need no Keras."""

import collections
import contextlib
import io
import math

import numpy as np
import scipy.linalg
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


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


def segmentation_scores(true_masks, pred_masks, num_classes):
    """Pixel accuracy, and IoU (Jaccard) and Dice (F1) per class over all the pixels of
    `true_masks` and `pred_masks` (integer class maps of the same shape).

    IoU_k = TP / (TP + FP + FN), Dice_k = 2 TP / (2 TP + FP + FN), as scikit-learn's
    `jaccard_score` and `f1_score` with ``average=None`` over the pixels. A class in
    neither mask has NaN for both, and the means (``mean_iou``, as Keras's `MeanIoU`;
    ``mean_dice``) are over the other classes.
    """
    true, pred = np.asarray(true_masks), np.asarray(pred_masks)
    if true.shape != pred.shape:
        raise ValueError(f"`true_masks` and `pred_masks` must have the same shape; received "
                         f"{true.shape} and {pred.shape}.")
    true, pred = true.astype("int64").ravel(), pred.astype("int64").ravel()
    for name, mask in (("true_masks", true), ("pred_masks", pred)):
        if mask.size and (mask.min() < 0 or mask.max() >= num_classes):
            raise ValueError(f"`{name}` must hold class ids in [0, {num_classes - 1}] "
                             f"(num_classes={num_classes}); received ids from {mask.min()} "
                             f"to {mask.max()}.")
    confusion = np.bincount(num_classes * true + pred, minlength=num_classes ** 2)
    confusion = confusion.reshape(num_classes, num_classes).astype("float64")
    tp = np.diag(confusion)
    fp, fn = confusion.sum(0) - tp, confusion.sum(1) - tp
    with np.errstate(invalid="ignore"):  # 0 / 0: a class in neither mask
        iou, dice = tp / (tp + fp + fn), 2 * tp / (2 * tp + fp + fn)
    return {"pixel_accuracy": float(tp.sum() / max(len(true), 1)),
            "mean_iou": float(np.nanmean(iou)), "mean_dice": float(np.nanmean(dice)),
            "iou_per_class": iou.tolist(), "dice_per_class": dice.tolist()}


def detection_scores(true_boxes, detections, num_classes, max_detections=100):
    """Average precision of `detections` against `true_boxes`, computed by pycocotools'
    `COCOeval` (101-point interpolated precision, at most `max_detections` per image, all
    object sizes).

    Args:
        true_boxes: per image, an array (n, 5) of rows (x1, y1, x2, y2, class); rows of
            class -1 are padding (the ``mnist_scenes`` layout).
        detections: per image, an array (m, 6) of rows (x1, y1, x2, y2, score, class),
            e.g. from `kerasdl.detection.non_max_suppression`.
        num_classes: the number of classes.

    Returns:
        A dict: ``map_50`` (mean over the classes present in `true_boxes` of the AP at
        IoU 0.5), ``map`` (COCO's mAP@[.5:.95]), ``ap50_per_class`` and ``ap_per_class``
        (NaN for a class absent from `true_boxes`), and ``precision_50``, the
        interpolated precision at IoU 0.5 at recall 0, 0.01, ..., 1, averaged over the
        present classes (its mean is ``map_50``).
    """
    if len(true_boxes) != len(detections):
        raise ValueError(f"`true_boxes` and `detections` must give one entry per image; "
                         f"received {len(true_boxes)} and {len(detections)}.")
    images, truths, found = [], [], []
    for image, (truth, detected) in enumerate(zip(true_boxes, detections)):
        truth = _rows(truth, 5, "true_boxes", image, num_classes)
        detected = _rows(detected, 6, "detections", image, num_classes)
        images.append({"id": image})
        truths += [_coco_box(row[:4], row[4], image_id=image, iscrowd=0,
                             area=float((row[2] - row[0]) * (row[3] - row[1])))
                   for row in truth[truth[:, 4] >= 0]]
        found += [dict(_coco_box(row[:4], row[5], image_id=image), score=float(row[4]))
                  for row in detected]
    for i, annotation in enumerate(truths, start=1):  # COCOeval takes id 0 for "unmatched"
        annotation["id"] = i
    present = sorted({a["category_id"] for a in truths})
    if not present:
        raise ValueError("`true_boxes` holds no box: average precision needs at least one.")
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools reports by printing
        ground_truth = COCO()
        ground_truth.dataset = {"images": images, "annotations": truths,
                                "categories": [{"id": k} for k in range(num_classes)]}
        ground_truth.createIndex()
        if found:
            evaluation = COCOeval(ground_truth, ground_truth.loadRes(found), "bbox")
            evaluation.params.maxDets = [max_detections]
            evaluation.params.areaRng, evaluation.params.areaRngLbl = [[0, 1e10]], ["all"]
            evaluation.evaluate()
            evaluation.accumulate()
            # precision: (IoU thresholds, recall points, classes, areas, max detections)
            # (-1 for a class absent from the truth, replaced by NaN below)
            precision = np.maximum(evaluation.eval["precision"][:, :, :, 0, 0], 0)
        else:  # loadRes refuses an empty list; nothing found: every AP is 0
            precision = np.zeros((10, 101, num_classes))
    ap = precision.mean(axis=1)
    ap50, ap = ap[0], ap.mean(axis=0)
    absent = np.setdiff1d(np.arange(num_classes), present)
    ap50[absent] = ap[absent] = np.nan
    return {"map_50": float(np.nanmean(ap50)), "map": float(np.nanmean(ap)),
            "ap50_per_class": ap50.tolist(), "ap_per_class": ap.tolist(),
            "precision_50": precision[0][:, present].mean(axis=1).tolist()}


def _rows(rows, width, name, image, num_classes):
    rows = np.asarray(rows, dtype="float64").reshape(-1, width)
    classes = rows[:, -1]
    boxes = rows[classes >= 0] if name == "true_boxes" else rows
    if ((classes < -1) | (classes >= num_classes) | (classes != np.round(classes))).any() \
            or (name == "detections" and (classes < 0).any()):
        raise ValueError(f"`{name}` of image {image} holds class {classes.min():g}..."
                         f"{classes.max():g}; classes are integers in [0, {num_classes - 1}]"
                         f"{' (-1: padding)' if name == 'true_boxes' else ''}.")
    bad = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    if bad.any():
        raise ValueError(f"`{name}` of image {image} holds the box "
                         f"{boxes[bad][0, :4].tolist()}: a box is (x1, y1, x2, y2) with "
                         f"x2 > x1 and y2 > y1.")
    return rows


def _coco_box(box, category, **fields):
    x1, y1, x2, y2 = (float(v) for v in box)
    return {"bbox": [x1, y1, x2 - x1, y2 - y1], "category_id": int(category), **fields}
