"""Scenes of real digits for segmentation and detection, with known answers: canvases holding
a few MNIST digits at random positions and scales, with each digit's box and mask.

Pure NumPy/SciPy, seeded: `kerasdl.datasets` makes ``mnist_scenes`` from ``mnist_5k``'s
train digits for its train split and from its test digits for its test split.
"""

import numpy as np
import scipy.ndimage

MAX_OBJECTS = 4


def compose(digits, labels, n, *, size=64, max_objects=MAX_OBJECTS, scale=(0.75, 1.5),
            threshold=0.5, seed=0):
    """`n` canvases of `size` x `size`, each holding 1 to `max_objects` of `digits`.

    Each digit is zoomed by a factor drawn from `scale` and placed where its box overlaps
    no other's (a digit that finds no such place in 20 draws is left out; the first always
    fits). A digit's pixels are those above `threshold` after zooming: its box is tight
    around them and its mask marks them.

    Args:
        digits: (N, 28, 28, 1) images in [0, 1]; labels: (N,) their classes.

    Returns:
        ``(images, masks, boxes)``: float32 (n, size, size, 1) in [0, 1]; int32 (n, size,
        size), 0 for background and 1 + the class on a digit's pixels; float32
        (n, max_objects, 5) rows (x1, y1, x2, y2, class) in pixels (x2, y2 exclusive),
        padded with rows of -1.
    """
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size, 1), "float32")
    masks = np.zeros((n, size, size), "int32")
    boxes = np.full((n, max_objects, 5), -1.0, "float32")
    for i in range(n):
        placed = []
        for _ in range(rng.integers(1, max_objects + 1)):
            k = rng.integers(len(digits))
            digit = np.clip(scipy.ndimage.zoom(digits[k, ..., 0], rng.uniform(*scale), order=1),
                            0, 1)
            rows, cols = np.nonzero(digit > threshold)
            digit = digit[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
            height, width = digit.shape
            for _ in range(20):
                top, left = rng.integers(0, size - height + 1), rng.integers(0, size - width + 1)
                box = (left, top, left + width, top + height)
                if not any(_overlap(box, other) for other in placed):
                    break
            else:
                continue
            canvas = images[i, top:top + height, left:left + width, 0]
            np.maximum(canvas, digit, out=canvas)
            masks[i, top:top + height, left:left + width][digit > threshold] = 1 + labels[k]
            boxes[i, len(placed)] = (*box, labels[k])
            placed.append(box)
    return images, masks, boxes


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
