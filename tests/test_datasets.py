import numpy as np
import pytest

from kerasdl import datasets

pytestmark = pytest.mark.backend_independent  # NumPy and tf.data, whatever the backend


def test_mnist_5k_fixed_stratified_split():
    x_train, y_train = datasets.load("mnist_5k", "train")
    x_test, y_test = datasets.load("mnist_5k", "test")
    assert x_train.shape == (4000, 28, 28, 1) and x_test.shape == (1000, 28, 28, 1)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() == 1.0
    assert (np.bincount(y_train) == 400).all() and (np.bincount(y_test) == 100).all()
    # Shuffled, so that x[:n] or a validation split holds every class.
    assert len(np.unique(y_train[:100])) == 10 and len(np.unique(y_test[-100:])) == 10
    # No test image is in the training set, and the split is the same every time.
    train_rows = {row.tobytes() for row in x_train.reshape(4000, -1)}
    assert not any(row.tobytes() in train_rows for row in x_test.reshape(1000, -1))
    np.testing.assert_array_equal(datasets.load("mnist_5k", "test")[0], x_test)


@pytest.mark.parametrize("name,shape,classes", [("digits", (8, 8, 1), 10), ("moons", (2,), 2)])
def test_offline_sets(name, shape, classes):
    x, y = datasets.load(name, "train")
    assert x.shape[1:] == shape == datasets.info(name).input_shape
    assert set(np.unique(y)) == set(range(classes))


def test_image_size_pads_centred():
    x, _ = datasets.load("mnist_5k", "test", image_size=32)
    raw, _ = datasets.load("mnist_5k", "test")
    assert x.shape == (1000, 32, 32, 1)
    np.testing.assert_array_equal(x[:, 2:30, 2:30], raw)
    assert x[:, :2].max() == 0 and x[:, 30:].max() == 0


def test_tf_dataset_option():
    ds = datasets.load("moons", "test", as_tf_dataset=True, batch_size=100)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (100, 2) and tuple(y.shape) == (100,)
    # Multi-input sets keep their inputs apart (a list would be stacked into one tensor).
    (source, target_in), target = next(iter(datasets.load("reverse", "test", as_tf_dataset=True,
                                                          batch_size=8)))
    raw, _ = datasets.load("reverse", "test")
    np.testing.assert_array_equal(source.numpy(), raw[0][:8])
    np.testing.assert_array_equal(target_in.numpy(), raw[1][:8])


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)),
                                        ("cifar10", (32, 32, 3))])
def test_tfds_images_through_mock_data(name, shape, tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=6):
        x, y = datasets.load(name, "test", data_dir=str(tmp_path))
    assert x.shape == (6, *shape) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert y.dtype == np.int32 and y.max() < 10


def test_tfds_text_through_mock_data(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=4):
        x, y = datasets.load("imdb_reviews", "train", data_dir=str(tmp_path))
    assert x.shape == (4,) and isinstance(x[0], bytes)
    assert set(y) <= {0, 1}


def test_imdb_becomes_token_ids_for_a_token_model(tmp_path):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=8):
        (x, y), (x_test, _), kwargs = datasets.load_for_model(
            "transformer_classifier", "imdb_reviews", data_dir=str(tmp_path))
    assert x.shape == (8, 200) and x.dtype == np.int32 and x_test.shape == (8, 200)
    assert kwargs["input_shape"] == (200,) and kwargs["num_classes"] == 2
    assert 2 < kwargs["vocab_size"] <= 20_000 and x.max() < kwargs["vocab_size"]
    assert set(y) <= {0, 1}


def test_vectorize_text_learns_its_vocabulary_from_training_texts_only():
    train, test, vocabulary = datasets.vectorize_text(
        ["the cat sat", "the dog"], ["the bird sat"], vocab_size=10, sequence_length=4)
    assert vocabulary[:2] == ["", "[UNK]"] and "bird" not in vocabulary
    assert train.tolist()[1][2:] == [0, 0]  # padding
    assert test[0][1] == 1  # "bird" is out of vocabulary


def test_a_dataset_the_model_cannot_take_is_refused():
    with pytest.raises(ValueError, match=r"dataset 'imdb_reviews' is text; lenet5 takes"):
        datasets.load_for_model("lenet5", "imdb_reviews", download=False, data_dir="/nonexistent")


def _mock_examples(*examples):
    """A `tfds.testing.mock_data` `as_dataset_fn` serving `examples` (dicts of arrays of
    any size), the split it was asked for recorded in `asked`."""
    import tensorflow as tf

    asked = []

    def as_dataset(self, split, **kwargs):
        asked.append(split)
        ds = tf.data.Dataset.from_tensors(examples[0])
        for example in examples[1:]:
            ds = ds.concatenate(tf.data.Dataset.from_tensors(example))
        return ds
    return as_dataset, asked


def test_oxford_pets_trimaps_become_masks_resized_with_their_photos(tmp_path):
    import tensorflow_datasets as tfds

    trimap = np.full((40, 60, 1), 2, np.uint8)  # background
    trimap[8:32, 12:48] = 3  # the pet's border around
    trimap[10:30, 15:45] = 1  # the pet
    photo = np.zeros((40, 60, 3), np.uint8)
    photo[10:30, 15:45] = 255
    as_dataset, asked = _mock_examples({"image": photo, "segmentation_mask": trimap})
    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        (x, y), _, kwargs = datasets.load_for_model("unet", "oxford_iiit_pet", image_size=20,
                                                    data_dir=str(tmp_path))
    assert asked == ["train", "test"] and x.shape == (1, 20, 20, 3) and y.shape == (1, 20, 20)
    assert kwargs == {"input_shape": (20, 20, 3), "num_classes": 3}
    assert y[0, 10, 10] == 1 and y[0, 0, 0] == 0 and set(np.unique(y)) == {0, 1, 2}
    assert x[0, 10, 10].min() == 1.0 and x[0, 0, 0].max() == 0.0
    # Pixels of the pet's class lie where the photo was resized: rows 5..14, columns 5..14.
    np.testing.assert_array_equal(np.argwhere(y[0] == 1).min(0), [5, 5])
    np.testing.assert_array_equal(np.argwhere(y[0] == 1).max(0), [14, 14])


def test_voc_boxes_are_scaled_to_the_resized_photos_and_padded(tmp_path):
    import tensorflow_datasets as tfds

    def example(boxes, labels):
        return {"image": np.zeros((100, 200, 3), np.uint8),
                "objects": {"bbox": np.float32(boxes), "label": np.int64(labels)}}

    as_dataset, asked = _mock_examples(  # tfds's boxes: (ymin, xmin, ymax, xmax) in [0, 1]
        example([[0.1, 0.2, 0.5, 0.9]], [14]),
        example([[0.0, 0.0, 1.0, 1.0], [0.5, 0.5, 0.6, 0.7]], [0, 19]))
    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        x, y = datasets.load("voc", "train", image_size=50, data_dir=str(tmp_path))
    assert asked == ["train+validation"] and x.shape == (2, 50, 50, 3)
    np.testing.assert_allclose(y, [[[10, 5, 45, 25, 14], [-1, -1, -1, -1, -1]],
                                   [[0, 0, 50, 50, 0], [25, 25, 35, 30, 19]]], atol=1e-5)
