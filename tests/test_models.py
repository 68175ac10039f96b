"""Every registered model, at its small test configuration: build, train, serialize."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl.registry import get_spec
from kerasdl.training import task_loss
from tests.helpers import (ONCE_ON, assert_config_round_trip, assert_every_weight_moved,
                           assert_file_round_trip, outputs, snapshot, this_suites)

# Deep CNNs of Keras's own layers (convolutions, batch norm, pooling, concatenation): the
# graph of their training step takes TensorFlow 1-3 minutes to build on a CPU, so there
# they train eagerly (seconds); XLA's CPU compiler takes 2-3 minutes for DenseNet-121's and
# GoogLeNet's, so the JAX suite leaves their training to the others (it compiles their
# layers in resnet18's, vgg11's and lenet5's tests, runs them in test_features_without_top,
# and loads DenseNet-121 saved on TensorFlow in tests/test_cross_backend.py).
EAGER = {"densenet121", "googlenet", "resnet50"}
NOT_TRAINED_ON_JAX = {"densenet121", "googlenet"}
# GANs train against themselves: tests/test_generative.py covers them.
NAMES = [n for n in this_suites(kerasdl.list_models()) if get_spec(n).train.task != "adversarial"
         and not (keras.backend.backend() == "jax" and n in NOT_TRAINED_ON_JAX)]


@pytest.mark.parametrize("name", NAMES)
def test_build_fit_config_and_save_round_trip(name, example, tmp_path):
    spec = get_spec(name)
    keras.utils.set_random_seed(0)
    model = kerasdl.build(name, **spec.test_kwargs)
    x, y, task = example(spec)

    probs = outputs(model, x)
    if task in ("classification", "segmentation"):  # a softmax per example, or per pixel
        assert probs.shape[:-1] == y.shape
        np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-5)
    elif task == "detection":  # linear outputs per cell: 5 per box and the class scores
        assert probs.shape[:-1] == y.shape[:-1]
    else:  # sigmoid outputs: binary labels, or reconstructions of x
        assert probs.shape == (y if y is not None else x).shape
        assert ((probs >= 0) & (probs <= 1)).all()

    # Every backend: a few steps reach every weight. In one suite (the architecture learns
    # or not whatever the backend; the gradients' agreement across backends is
    # test_cross_backend's): enough steps on one fixed batch lower the (training-mode)
    # loss. Autoencoders get more: their sigmoid outputs must first move from 0.5 to the
    # dark pixels' values.
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss=task_loss(task, model),
                  run_eagerly=name in EAGER and keras.backend.backend() == "tensorflow")
    once = keras.backend.backend() == ONCE_ON  # the suite of what no backend changes
    epochs = (30 if spec.family != "autoencoder" else 80) if once else 3
    before = snapshot(model.trainable_weights)
    losses = model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False, verbose=0).history["loss"]
    assert np.isfinite(losses).all()
    if once:
        assert losses[-1] < 0.9 * losses[0], losses
    assert_every_weight_moved(model.trainable_weights, before)
    if once:  # a config is JSON, the same whatever the backend
        assert_config_round_trip(model)
    assert_file_round_trip(model, tmp_path / f"{name}.keras", x)


@pytest.mark.parametrize("name", this_suites(kerasdl.list_models(family="convolutional")))
def test_features_without_top(name, example):
    spec = get_spec(name)
    kwargs = {**spec.test_kwargs, "include_top": False, "pooling": "avg"}
    model = kerasdl.build(name, **kwargs)
    x = example(spec, n=2)[0]
    # the average over the positions of the last feature map, one value per channel
    maps = next(layer for layer in reversed(model.layers) if len(layer.output.shape) == 4)
    features, last = outputs(keras.Model(model.inputs, [model.output, maps.output]), x)
    assert features.shape == (2, last.shape[-1])
    np.testing.assert_allclose(features, last.mean(axis=(1, 2)), rtol=1e-5, atol=1e-6)


@pytest.mark.backend_independent
def test_feature_maps_at_each_resolution_start_from_a_classifiers_weights(tmp_path, example):
    spec = get_spec("resnet18")
    keras.utils.set_random_seed(0)
    classifier = kerasdl.build("resnet18", **spec.test_kwargs)
    classifier.save_weights(tmp_path / "resnet18.weights.h5")
    keras.utils.set_random_seed(1)  # other initial weights, which the file replaces
    features = kerasdl.build("resnet18", features=True, **spec.test_kwargs,
                             weights=str(tmp_path / "resnet18.weights.h5"))
    # the end of each stage, before its map is halved
    assert features.output_names == ["conv2_block2_out", "conv3_block2_out",
                                     "conv4_block2_out", "conv5_block2_out"]
    assert [tuple(t.shape[1:]) for t in features.outputs] == [(16, 16, 4), (8, 8, 8),
                                                              (4, 4, 16), (2, 2, 32)]
    info = kerasdl.feature_info("resnet18", **spec.test_kwargs)  # the small stem: stride 1
    assert [(f["name"], f["stride"], f["channels"]) for f in info] == [
        ("conv2_block2_out", 1, 4), ("conv3_block2_out", 2, 8), ("conv4_block2_out", 4, 16),
        ("conv5_block2_out", 8, 32)]
    x = example(spec, n=2)[0]
    inside = keras.Model(classifier.inputs, [classifier.get_layer(name).output
                                             for name in features.output_names])
    for got, expected in zip(outputs(features, x), outputs(inside, x)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="features=True gives the feature maps of a "
                                         "convolutional classifier; 'lstm' is recurrent"):
        kerasdl.build("lstm", features=True)


def test_a_classifiers_convolutions_start_a_unet_and_a_yolo(tmp_path):
    keras.utils.set_random_seed(0)
    classifier = kerasdl.build("simple_cnn", input_shape=(28, 28, 1), num_classes=10)
    path = str(tmp_path / "simple_cnn.keras")
    classifier.save(path)
    x = np.random.default_rng(0).random((2, 32, 32, 1), "float32")
    # simple_cnn's two convolutions, trained on 28x28 digits, at 32x32. YOLO's backbone ends
    # at its map on the grid (conv2's, 16x16), without the pooling after it.
    for name, kwargs, last in (("unet", {}, "pool2"), ("yolo", dict(
            grid=16, head="conv", width_multiplier=1 / 16), "conv2_conv")):
        keras.utils.set_random_seed(1)  # other initial weights, which the file replaces
        model = kerasdl.build(name, input_shape=(32, 32, 1), num_classes=3,
                              backbone="simple_cnn", backbone_weights=path, **kwargs)
        assert model.get_layer("backbone").layers[-1].name == last
        convolutions = [layer for layer in model.get_layer("backbone").layers if layer.weights]
        assert len(convolutions) == 2
        for layer in convolutions:
            for got, trained in zip(layer.get_weights(),
                                    classifier.get_layer(layer.name).get_weights()):
                np.testing.assert_array_equal(got, trained)
        assert_file_round_trip(model, tmp_path / f"{name}.keras", x)


@pytest.mark.backend_independent
def test_backbones_that_do_not_fit_are_refused():
    # a built backbone whose stem strides: the expanding path climbs on to the input's size
    strided = kerasdl.build("resnet18", features=True, input_shape=(32, 32, 1),
                            width_multiplier=1 / 16)
    assert strided.outputs[0].shape[1] == 16
    unet = kerasdl.build("unet", input_shape=(32, 32, 1), backbone=strided)
    assert unet.output.shape == (None, 32, 32, 2) and unet.get_layer("up_stem1_upconv")
    with pytest.raises(ValueError, match="`backbone_weights` goes with a backbone name"):
        kerasdl.build("unet", input_shape=(32, 32, 1), backbone=strided,
                      backbone_weights="model.keras")
    with pytest.raises(ValueError, match=r"must be a convolutional model, one of \[.*\]"
                                         r".*received backbone='lstm'"):
        kerasdl.build("unet", input_shape=(32, 32, 1), backbone="lstm")
    with pytest.raises(ValueError, match=r"on an input of 32x32 they are \['28x28', "
                                         r"'14x14', '10x10', '5x5'\]"):
        kerasdl.build("unet", input_shape=(32, 32, 1), backbone="lenet5")
    with pytest.raises(ValueError, match=r"grid=4 needs a backbone map 4 cells high; the "
                                         r"backbone's maps are \[32, 16, 8\] high"):
        kerasdl.build("yolo", input_shape=(32, 32, 1), grid=4, head="conv",
                      backbone="simple_cnn")
