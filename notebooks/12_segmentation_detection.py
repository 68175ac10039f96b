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
# # Segmentation and detection: U-Net and YOLO
#
# Beyond one label per image: a class for every pixel (segmentation, U-Net) and a box and class for every object (detection, YOLO v1). Both train here with `model.fit` on the backend `KERAS_BACKEND` names, offline, on `mnist_scenes`: 64x64 canvases holding one to four real MNIST digits at random places and sizes, with their masks and their boxes. They are judged as the benchmarks judge them: IoU and Dice per class over all pixels (equal to scikit-learn's), average precision by pycocotools' `COCOeval`.

# %%
import os
import tempfile

import keras
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from sklearn.metrics import jaccard_score

import kerasdl
from kerasdl import datasets, detection
from kerasdl.training import train_model

QUICK = os.environ.get('KERASDL_QUICK') == '1'  # the tests' quick mode: fewer scenes and epochs
print(f'backend: {keras.backend.backend()}' + (' (quick mode)' if QUICK else ''))
keras.utils.set_random_seed(0)
work = tempfile.mkdtemp()
SCENES = 1000 if QUICK else None  # None: all 8,000 training scenes, as `kerasdl train` uses
(x, masks), (x_test, masks_test) = (datasets.load('mnist_scenes', s, target='masks') for s in ('train', 'test'))
(_, boxes), (_, boxes_test) = (datasets.load('mnist_scenes', s, target='boxes') for s in ('train', 'test'))
x, masks, boxes = x[:SCENES], masks[:SCENES], boxes[:SCENES]
print(f'{len(x)} training scenes, {len(x_test)} test scenes of {x.shape[1:]}; boxes per scene: rows (x1, y1, x2, y2, digit), -1 pads')

# %% [markdown]
# ## The scenes
#
# Each digit's mask marks its pixels with 1 + its class (0 is background: 11 classes); its box is tight around them.

# %%
fig, axes = plt.subplots(2, 4, figsize=(10, 5))
for i in range(4):
    axes[0, i].imshow(x[i, ..., 0], cmap='gray')
    for x1, y1, x2, y2, digit in boxes[i][boxes[i, :, 4] >= 0]:
        axes[0, i].add_patch(plt.Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, color='lime'))
        axes[0, i].text(x1, y1, int(digit), color='lime', va='bottom')
    axes[1, i].imshow(masks[i], cmap='tab20', vmin=0, vmax=19, interpolation='nearest')
for ax in axes.flat:
    ax.axis('off')
axes[0, 0].set_title('images and boxes', loc='left'); axes[1, 0].set_title('masks', loc='left');

# %% [markdown]
# ## U-Net
#
# Ronneberger et al.'s network: two 3x3 convolutions per level, 2x2 max pooling down, 2x2 up-convolutions back, each level's map concatenated to the way up, and a 1x1 convolution to a softmax per pixel. At the paper's size (`padding='valid'`) a 572x572 tile gives a 388x388 map and 31,030,658 parameters, as in the paper:

# %%
paper = kerasdl.build('unet', input_shape=(572, 572, 1), num_classes=2, padding='valid')
print(f'paper U-Net: {paper.input_shape[1:3]} -> {paper.output_shape[1:3]}, {paper.count_params():,} parameters')
assert paper.output_shape[1:3] == (388, 388) and paper.count_params() == 31_030_658
del paper

# %% [markdown]
# Here, `kerasdl train unet`'s recipe: 16 filters at the first level, batch normalization, `padding='same'` so the masks keep the canvas's size, Adam, per-pixel cross-entropy.

# %%
spec = kerasdl.registry.get_spec('unet')
recipe = spec.train.replace(epochs=2) if QUICK else spec.train
unet = kerasdl.build('unet', input_shape=x.shape[1:], num_classes=11, **spec.train.model)
untrained = kerasdl.evaluate(unet, (x_test, masks_test))['mean_iou']
history, metrics = train_model(unet, (x, masks), (x_test, masks_test), recipe=recipe, verbose=0)
plt.plot(history.history['loss'], label='train'); plt.plot(history.history['val_loss'], label='validation')
plt.xlabel('epoch'); plt.ylabel('cross-entropy per pixel'); plt.legend();

# %% [markdown]
# Mean IoU over the 11 classes, background included; IoU and Dice per class. The same IoU comes from scikit-learn's `jaccard_score` over all test pixels:

# %%
scores = kerasdl.evaluate(unet, (x_test, masks_test), output_dir=os.path.join(work, 'unet'))
predicted = unet.predict(x_test, verbose=0).argmax(-1)
reference = jaccard_score(masks_test.ravel(), predicted.ravel(), average=None, labels=range(11))
np.testing.assert_allclose(scores['iou_per_class'], reference, atol=1e-6)
print(f"mean IoU {scores['mean_iou']:.3f} (untrained {untrained:.3f}), mean Dice {scores['mean_dice']:.3f}, pixel accuracy {scores['pixel_accuracy']:.3f}")
print('class     ' + ' '.join(f'{c:>5}' for c in ['bg'] + list(range(10))))
for name in ('iou', 'dice'):
    print(f'{name:<10}' + ' '.join(f'{v:5.2f}' for v in scores[f'{name}_per_class']))
assert scores['mean_iou'] > max(2 * untrained, 0.05 if QUICK else 0.8)  # quick: 50 steps, well above untrained
display(Image(os.path.join(work, 'unet', 'masks.png')))

# %% [markdown]
# ## YOLO v1
#
# Redmon et al.'s detector divides the image into S x S cells; each cell predicts B boxes (centre within the cell, width and height relative to the image, a confidence) and C class probabilities, all in one pass. The loss is the paper's: squared errors on the coordinates (the square roots of width and height, weighted by lambda_coord = 5), on the confidences (cells without an object weighted by lambda_noobj = 0.5), and on the classes. `kerasdl train yolo`'s recipe: an 8x8 grid on the 64x64 scenes, B = 2, an eighth of the paper's widths, a convolutional head, and the paper's augmentation (random scaling and translation of up to 20%, the boxes moved with the images).

# %%
spec = kerasdl.registry.get_spec('yolo')
# quick: 8 epochs without augmentation, which learns sooner (and overfits later)
recipe = spec.train.replace(epochs=8, augment=False) if QUICK else spec.train
yolo = kerasdl.build('yolo', input_shape=x.shape[1:], num_classes=10, **spec.train.model)
image_size, grid, boxes_per_cell, num_classes = detection.layout(yolo)
print(f'{grid[0]}x{grid[1]} cells of {image_size[0] // grid[0]} pixels, B={boxes_per_cell}, C={num_classes}; {yolo.count_params():,} parameters')
untrained = kerasdl.evaluate(yolo, (x_test, boxes_test))['map_50']
history, metrics = train_model(yolo, (x, boxes), (x_test, boxes_test), recipe=recipe, verbose=0)
plt.plot(history.history['loss'], label='train'); plt.plot(history.history['val_loss'], label='validation')
plt.xlabel('epoch'); plt.ylabel('YOLO loss'); plt.yscale('log'); plt.legend();

# %% [markdown]
# Decoding turns each cell's outputs into boxes in pixels, scored by confidence times class probability; non-maximum suppression keeps, per class, the best of boxes that overlap by IoU > 0.5. Both are `keras.ops` functions, so they run on every backend:

# %%
outputs = yolo.predict(x_test[:1], verbose=0)
found = detection.detections_list(detection.non_max_suppression(*detection.decode(outputs, image_size=image_size, boxes_per_cell=boxes_per_cell)))[0]
print(f'{grid[0] * grid[1] * boxes_per_cell} candidate boxes -> {len(found)} after NMS; those scoring above 0.3 (x1, y1, x2, y2, score, class):')
print(np.round(found[found[:, 4] > 0.3], 1))
print('true boxes:'); print(boxes_test[0][boxes_test[0, :, 4] >= 0])

# %% [markdown]
# Average precision per class at IoU 0.5 (mAP@0.5, PASCAL VOC's measure) and averaged over IoU 0.5 to 0.95 (COCO's), both by pycocotools' `COCOeval` on the test scenes:

# %%
scores = kerasdl.evaluate(yolo, (x_test, boxes_test), output_dir=os.path.join(work, 'yolo'))
print(f"mAP@0.5 {scores['map_50']:.3f} (untrained {untrained:.3f}), COCO mAP@[.5:.95] {scores['map']:.3f}")
print('AP@0.5 per digit:', ' '.join(f'{v:.2f}' for v in scores['ap50_per_class']))
assert scores['map_50'] > max(2 * untrained, 0.02 if QUICK else 0.9)
display(Image(os.path.join(work, 'yolo', 'precision_recall.png')))
display(Image(os.path.join(work, 'yolo', 'detections.png')))

# %% [markdown]
# ## Where next
#
# - `kerasdl train unet` and `kerasdl train yolo` train these recipes from the command line; `kerasdl predict RUN image.png --overlay out.png` draws a trained model's masks or boxes, from the `.keras` file or its ONNX export.
# - `backbone=` starts either from a trained classifier's convolutions: `kerasdl.build('unet', backbone='vgg11', backbone_weights='digits.keras')`. With 10% of the scene labels, the pretrained start beats training from scratch (`benchmarks/scenes_transfer.py`, table in docs/models.md).
# - `datasets.load('oxford_iiit_pet')` and `datasets.load('voc')` read the real benchmarks from a tensorflow-datasets directory.
