"""Parameter counts at each paper's size, and keras.applications weight compatibility.

Shapes, counts and weight files are the same Keras layers on every backend: the module
runs once, in the suite of `tests.helpers.ONCE_ON` (PyTorch, the fastest to build)."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl import detection
from kerasdl.backend.compat import save_legacy_h5_weights
from kerasdl.registry import get_spec

pytestmark = pytest.mark.backend_independent


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# Batch-norm moving statistics: keras.applications' summaries count them, papers and
# torchvision do not (the trainable counts are each spec's `params`).
NON_TRAINABLE = {"googlenet": 14_560, "resnet18": 9_600, "resnet34": 17_024,
                 "resnet50": 53_120, "densenet121": 83_648, "dcgan": 12_928,
                 "wgan_gp": 12_672}


@pytest.mark.slow
@pytest.mark.parametrize("name", kerasdl.list_models())
def test_spec_metadata_is_true_of_the_model(name):
    """Like timm's default-config checks: at its paper size the model takes the spec's
    default input, has its trainable parameters and (classifiers) its classes; it builds
    at the spec's smallest input, and a CNN refuses one pixel less."""
    spec = get_spec(name)
    model = kerasdl.build(name)
    # Subclassed models (GAN, VAE) take samples through their discriminator or encoder.
    part = getattr(model, "discriminator", None) or getattr(model, "encoder", None) or model
    assert tuple(part.inputs[0].shape[1:]) == spec.default_input
    assert _trainable(model) == spec.params
    assert model.count_params() == spec.params + NON_TRAINABLE.get(name, 0)
    task = spec.train.task or kerasdl.datasets.info(spec.train.dataset).task
    if task == "detection":  # 5 per box and the classes per cell
        assert detection.layout(model)[3] == spec.num_classes
    elif spec.num_classes and task != "binary" and part is model:  # binary: one sigmoid each
        assert model.outputs[0].shape[-1] == spec.num_classes
    keras.backend.clear_session()
    if "input_shape" in spec.arguments:  # the default configuration at test widths
        small = {k: v for k, v in spec.test_kwargs.items() if k != "stem"}
        small["input_shape"] = spec.min_input
        kerasdl.build(name, **small)
        if spec.family == "convolutional":
            smaller = (spec.min_input[0] - 1, *spec.min_input[1:])
            with pytest.raises(ValueError, match="too small"):
                kerasdl.build(name, **{**small, "input_shape": smaller})


def test_googlenet_with_the_papers_5x5_branch_and_no_batch_norm():
    model = kerasdl.build("googlenet", large_kernel=5, batch_norm=False)
    assert _trainable(model) == 6_998_552


def test_lenet5_pads_mnist_to_32():
    model = kerasdl.build("lenet5", input_shape=(28, 28, 1))
    assert model.get_layer("pad").output.shape[1:3] == (32, 32)
    assert _trainable(model) == 61_706


@pytest.mark.parametrize("name,application,kwargs", [
    ("vgg16", "VGG16", dict(include_top=False, input_shape=(32, 32, 3))),
    ("vgg19", "VGG19", dict(include_top=False, input_shape=(32, 32, 3))),
    ("densenet121", "DenseNet121", dict(include_top=True, input_shape=(32, 32, 3), classes=10)),
])
def test_keras_applications_weight_files_give_the_same_outputs(name, application, kwargs,
                                                               rng, tmp_path):
    reference = getattr(keras.applications, application)(weights=None, **kwargs)
    for w in reference.weights:  # random everything, BN statistics included
        value = rng.normal(0.0, 0.05, w.shape)
        if "variance" in w.path:
            value = rng.uniform(0.5, 1.5, w.shape)
        w.assign(value.astype("float32"))
    path = tmp_path / f"{application}.h5"
    save_legacy_h5_weights(reference, path)  # keras.applications' file layout

    model = kerasdl.build(name, input_shape=kwargs["input_shape"],
                          include_top=kwargs["include_top"],
                          num_classes=kwargs.get("classes", 1000), weights=str(path))
    x = rng.random((2, *kwargs["input_shape"])).astype("float32") * 255
    expected = reference.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4,
                               atol=1e-5 * np.abs(expected).max())
