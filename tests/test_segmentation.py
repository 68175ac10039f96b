"""Segmentation and detection: IoU, Dice and AP against their references, `mnist_scenes`,
and U-Net's shapes and training."""

import keras
import numpy as np
import pytest
from sklearn import metrics as sk

import kerasdl
from kerasdl import datasets, scenes
from kerasdl.metrics import detection_scores, segmentation_scores
from kerasdl.registry import get_spec
from kerasdl.training import train_model
from tests.helpers import ONCE_ON

independent = pytest.mark.backend_independent


@independent
def test_segmentation_scores_equal_scikit_learns_and_keras_mean_iou(rng):
    classes = 5
    true = rng.integers(0, 4, (6, 9, 7))  # class 4 in neither mask: NaN, out of the means
    pred = np.where(rng.random(true.shape) < 0.6, true, rng.integers(0, 4, true.shape))
    pred[pred == 3] = 0  # class 3 never predicted: IoU and Dice 0
    scores = segmentation_scores(true, pred, classes)
    present = dict(labels=range(4), average=None)
    iou = sk.jaccard_score(true.ravel(), pred.ravel(), **present)
    dice = sk.f1_score(true.ravel(), pred.ravel(), **present)
    np.testing.assert_allclose(scores["iou_per_class"][:4], iou, atol=1e-6)
    np.testing.assert_allclose(scores["dice_per_class"][:4], dice, atol=1e-6)
    assert np.isnan(scores["iou_per_class"][4]) and np.isnan(scores["dice_per_class"][4])
    assert iou[3] == 0
    np.testing.assert_allclose(scores["mean_iou"], iou.mean(), atol=1e-6)
    np.testing.assert_allclose(scores["mean_dice"], dice.mean(), atol=1e-6)
    np.testing.assert_allclose(scores["pixel_accuracy"],
                               sk.accuracy_score(true.ravel(), pred.ravel()), atol=1e-6)
    keras_iou = keras.metrics.MeanIoU(classes)
    keras_iou.update_state(true.ravel(), pred.ravel())
    np.testing.assert_allclose(scores["mean_iou"], float(keras_iou.result()), atol=1e-6)


@independent
def test_segmentation_scores_refuse_bad_masks():
    with pytest.raises(ValueError, match=r"same shape; received \(2, 4\) and \(2, 5\)"):
        segmentation_scores(np.zeros((2, 4)), np.zeros((2, 5)), 3)
    with pytest.raises(ValueError, match=r"`pred_masks` must hold class ids in \[0, 2\].*to 3"):
        segmentation_scores(np.zeros((2, 4)), np.full((2, 4), 3), 3)


def _box(x1, y1, x2, y2, *rest):
    return [x1, y1, x2, y2, *rest]


@independent
def test_average_precision_known_answers():
    # One class, two objects; found at scores 0.9 (hit), 0.8 (miss), 0.7 (hit): precision 1
    # up to recall 0.5 and 2/3 above it, over COCO's 101 recall points.
    truth = [np.array([_box(0, 0, 10, 10, 0), _box(20, 20, 30, 30, 0), _box(-1, -1, -1, -1, -1)])]
    found = [np.array([_box(0, 0, 10, 10, 0.9, 0), _box(40, 40, 50, 50, 0.8, 0),
                       _box(20, 20, 30, 30, 0.7, 0)])]
    scores = detection_scores(truth, found, num_classes=1)
    expected = (51 + 50 * 2 / 3) / 101
    np.testing.assert_allclose([scores["map_50"], scores["map"]], expected, atol=1e-6)

    # An IoU of 0.78 is a hit at thresholds 0.5 ... 0.75, six of COCO's ten.
    truth = [np.array([_box(0, 0, 10, 10, 1)])]
    scores = detection_scores(truth, [np.array([_box(0, 0, 10, 7.8, 0.5, 1)])], num_classes=3)
    np.testing.assert_allclose([scores["map_50"], scores["map"]], [1.0, 0.6], atol=1e-6)
    # classes 0 and 2 are in no image: NaN, out of the means
    assert np.isnan(scores["ap50_per_class"][0]) and np.isnan(scores["ap_per_class"][2])

    # A class never predicted counts 0; nothing found at all: every AP 0.
    truth = [np.array([_box(0, 0, 10, 10, 0), _box(20, 20, 30, 30, 1)])]
    scores = detection_scores(truth, [np.array([_box(0, 0, 10, 10, 0.9, 0)])], num_classes=2)
    np.testing.assert_allclose([*scores["ap50_per_class"], scores["map_50"]], [1, 0, 0.5])
    scores = detection_scores(truth, [np.zeros((0, 6))], num_classes=2)
    assert scores["map_50"] == scores["map"] == 0.0

    # Equal scores keep the order given (pycocotools' stable sort): a miss listed first
    # costs the hit its precision of 1.
    truth = [np.array([_box(0, 0, 10, 10, 0)])]
    miss, hit = _box(30, 30, 40, 40, 0.5, 0), _box(0, 0, 10, 10, 0.5, 0)
    assert detection_scores(truth, [np.array([miss, hit])], 1)["map_50"] == pytest.approx(0.5)
    assert detection_scores(truth, [np.array([hit, miss])], 1)["map_50"] == pytest.approx(1.0)


@independent
def test_average_precision_refuses_bad_boxes():
    good = [np.array([_box(0, 0, 10, 10, 0)])]
    with pytest.raises(ValueError, match=r"image 0 holds the box \[5.0, 0.0, 5.0, 10.0\].*x2 > x1"):
        detection_scores([np.array([_box(5, 0, 5, 10, 0)])], [np.zeros((0, 6))], 1)
    with pytest.raises(ValueError, match=r"`detections` of image 0 holds class 2.*\[0, 1\]"):
        detection_scores(good, [np.array([_box(0, 0, 10, 10, 0.9, 2)])], 2)
    with pytest.raises(ValueError, match="one entry per image; received 1 and 2"):
        detection_scores(good, [np.zeros((0, 6))] * 2, 1)


@independent
def test_mnist_scenes_masks_and_boxes_agree():
    images, masks = datasets.load("mnist_scenes", "test")
    _, boxes = datasets.load("mnist_scenes", "test", target="boxes")
    assert images.shape == (500, 64, 64, 1) and masks.shape == (500, 64, 64)
    assert boxes.shape == (500, scenes.MAX_OBJECTS, 5) and masks.max() == 10
    for image, mask, rows in zip(images, masks, boxes):
        rows = rows[rows[:, 4] >= 0].astype(int)
        assert len(rows) >= 1
        for x1, y1, x2, y2, digit in rows:
            inside = mask[y1:y2, x1:x2] == 1 + digit
            # tight: the digit's pixels touch every side of its box
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() \
                and inside[:, -1].any()
            assert (image[y1:y2, x1:x2, 0][inside] > 0.5).all()
    # every digit pixel lies in its own box
    for mask, rows in zip(masks, boxes):
        inside = np.zeros(mask.shape, bool)
        for x1, y1, x2, y2, _ in rows[rows[:, 4] >= 0].astype(int):
            inside[y1:y2, x1:x2] = True
        assert not (mask[~inside]).any()
    np.testing.assert_array_equal(scenes.compose(*datasets.load("mnist_5k", "test"), 500,
                                                 seed=1)[1], masks)
    train = datasets.load("mnist_scenes", "train")[0]
    assert len(train) == 8000 and not np.array_equal(train[:500], images)


@independent
def test_mnist_scenes_refuse_what_would_not_move_their_targets():
    with pytest.raises(ValueError, match=r"`target`='labels'.*\['masks', 'boxes'\]"):
        datasets.load("mnist_scenes", target="labels")
    with pytest.raises(ValueError, match="it offers only one: pass target=None"):
        datasets.load("digits", target="boxes")
    with pytest.raises(ValueError, match=r"would not move 'mnist_scenes'.*\(64, 64\)"):
        datasets.load("mnist_scenes", image_size=(96, 96))


@independent
@pytest.mark.slow
def test_unet_unpadded_is_the_papers_572_to_388():
    model = kerasdl.build("unet", padding="valid")
    assert model.inputs[0].shape[1:] == (572, 572, 1)
    assert model.outputs[0].shape[1:] == (388, 388, 2)
    assert model.count_params() == get_spec("unet").params
    assert model.get_layer("down3_2_conv").output.shape[1:3] == (64, 64)  # the paper's figure 1


@independent
def test_unet_refuses_sizes_its_poolings_do_not_divide():
    with pytest.raises(ValueError, match=r"multiples of 16; received an input of size 100 "
                                         r"\(try 96 or 112\)"):
        kerasdl.build("unet", input_shape=(100, 100, 1))
    with pytest.raises(ValueError, match=r"16 \* b \+ 60 with b >= 8 \(188, 204, 220"):
        kerasdl.build("unet", input_shape=(190, 190, 1), padding="valid")


@pytest.mark.skipif(keras.backend.backend() != ONCE_ON, reason="learns alike on every backend")
def test_unet_learns_the_squares_and_evaluation_scores_it(tmp_path):
    spec = get_spec("unet")
    rng = np.random.default_rng(0)
    train, test = (kerasdl.testing.example(spec, rng, n)[:2] for n in (128, 32))
    keras.utils.set_random_seed(0)
    model = kerasdl.build("unet", **spec.test_kwargs)
    before = kerasdl.evaluate(model, test, task="segmentation")
    # No task: a map of classes per pixel is inferred as segmentation (not a classifier's)
    train_model(model, train, epochs=8, batch_size=16, lr=1e-2, augment=False,
                validation_split=0.0, verbose=0)
    after = kerasdl.evaluate(model, test, task="segmentation", output_dir=tmp_path)
    assert after["mean_iou"] > 0.8 > before["mean_iou"] + 0.2, (before, after)
    predicted = model.predict(test[0], verbose=0).argmax(-1)
    expected = segmentation_scores(test[1], predicted, 2)
    np.testing.assert_allclose(after["iou_per_class"], expected["iou_per_class"], atol=1e-6)
    assert (tmp_path / "masks.png").exists()
    with pytest.raises(ValueError, match=r"output less its class axis, \(16, 16\) per image; "
                                         r"received masks of shape \(16, 8\)"):
        kerasdl.evaluate(model, (test[0], test[1][..., :8]), task="segmentation")
    with pytest.raises(ValueError, match="augment=True moves the images but not their "
                                         "masks"):
        train_model(model, train, task="segmentation", augment=True)
    with pytest.raises(ValueError, match=r"one class per pixel of unet's output, \(16, 16\) "
                                         r"per image .* received masks of shape \(16, 8\)"):
        train_model(model, (train[0], train[1][..., :8]), task="segmentation")
