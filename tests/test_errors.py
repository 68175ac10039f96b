"""Bad input gets a clear error naming the argument and the value."""

import pytest

import kerasdl
from kerasdl import datasets

# argument checks, which run before any backend computes
pytestmark = pytest.mark.backend_independent


@pytest.mark.parametrize("call,error,pattern", [
    (lambda: kerasdl.build("resnet19"), ValueError, r"'resnet19'.*Did you mean 'resnet18'"),
    (lambda: kerasdl.build("resnet18", input_shape=(16, 16, 3)), ValueError,
     r"input_shape.*\(16, 16, 3\).*at least 32.*stem='small'"),
    (lambda: kerasdl.build("alexnet", input_shape=(64, 64, 3)), ValueError, r"at least 67"),
    (lambda: kerasdl.build("vgg16", input_shape=(224, 224)), ValueError,
     r"input_shape.*3 dimensions.*\(224, 224\)"),
    (lambda: kerasdl.build("lenet5", input_shape=(20, 20, 1)), ValueError, r"at least 28"),
    (lambda: kerasdl.build("resnet18", num_classes=0), ValueError, r"num_classes.*>= 1.*0"),
    (lambda: kerasdl.build("mlp", num_classes=-3), ValueError, r"num_classes.*-3"),
    (lambda: kerasdl.build("mlp", activation="relux"), ValueError,
     r"activation.*'relux'.*Did you mean 'relu'"),
    (lambda: kerasdl.build("vgg11", classifier_activation="softmaxx"), ValueError,
     r"classifier_activation.*'softmaxx'"),
    (lambda: kerasdl.build("resnet18", include_top=False, pooling="mean"), ValueError,
     r"pooling.*\[None, 'avg', 'max'\].*'mean'"),
    (lambda: kerasdl.build("mlp", hidden_units=(16, 8.5)), TypeError,
     r"hidden_units.*8\.5"),
    (lambda: kerasdl.build("simple_cnn", filters=(16, "32")), TypeError, r"filters.*'32'"),
    (lambda: kerasdl.build("densenet121", growth_rate=12.5), TypeError,
     r"growth_rate.*integer.*12\.5"),
    (lambda: kerasdl.build("vgg16", fc_units=0), TypeError, r"fc_units.*0"),
    (lambda: kerasdl.build("resnet18", width_multiplier=0), ValueError,
     r"width_multiplier.*0"),
    (lambda: kerasdl.build("resnet18", dropout=1.5), ValueError, r"dropout.*1\.5"),
    (lambda: kerasdl.build("resnet18", stem="tiny"), ValueError, r"stem.*'tiny'"),
    (lambda: kerasdl.build("resnet18", depth=20), TypeError,
     r"unexpected keyword argument.*depth.*accepts"),
    (lambda: kerasdl.build("vgg16", weights="imagenet"), ValueError,
     r"weights.*'imagenet'.*not a file"),
    (lambda: kerasdl.build("googlenet", aux_classifiers=True, input_shape=(32, 32, 3)),
     ValueError, r"aux_classifiers.*4a.*at least 5x5"),
    (lambda: kerasdl.build("vgg16", depth=19), TypeError,
     r"unexpected keyword argument.*depth"),  # pinned by the variant
    (lambda: kerasdl.build("wgan_gp", units=(64,)), ValueError,
     r"`units` sets the MLP networks of point data.*set `filters`.*units=\(64,\)"),
    (lambda: kerasdl.build("resnet18", name=""), TypeError, r"name.*non-empty string"),
    (lambda: kerasdl.list_models(family="recurent"), ValueError, r"family.*'recurent'"),
    (lambda: datasets.load("mnist_6k"), ValueError, r"'mnist_6k'.*Did you mean 'mnist_5k'"),
    (lambda: datasets.load("moons", split="validation"), ValueError, r"split.*'validation'"),
    (lambda: datasets.load("mnist_5k", image_size=20), ValueError, r"image_size.*20.*28"),
])
def test_bad_input_is_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_missing_tfds_dataset_offline_says_where_and_how(tmp_path):
    with pytest.raises(datasets.DatasetNotFoundError) as info:
        datasets.load("cifar10", data_dir=str(tmp_path))
    message = str(info.value)
    assert "'cifar10' is not on disk" in message
    assert str(tmp_path) in message
    assert "download=True" in message and "tfds.load('cifar10'" in message


def test_a_variants_presets_can_be_overridden():
    """The denoising autoencoder presets its noise (0.5) but a caller may change it; the
    wgan_gp on images honours its output activation."""
    kwargs = kerasdl.registry.get_spec("autoencoder_denoising").test_kwargs
    assert kerasdl.build("autoencoder_denoising", **kwargs).get_layer("noise").stddev == 0.5
    model = kerasdl.build("autoencoder_denoising", noise_stddev=0.3, **kwargs)
    assert model.get_layer("noise").stddev == 0.3
    wgan = kerasdl.build("wgan_gp", input_shape=(8, 8, 1), filters=4, output_activation="sigmoid")
    assert wgan.generator.get_layer("samples").activation.__name__ == "sigmoid"



def test_load_model_refuses_code_and_names_a_broken_file(tmp_path):
    import zipfile

    import keras
    import numpy as np

    x = keras.Input((2,))
    risky = keras.Model(x, keras.layers.Lambda(lambda t: t * 2)(x))
    risky.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match=r"lambda.keras holds Python code \(a Lambda layer\).*"
                                         r"safe_mode=False"):
        kerasdl.load_model(tmp_path / "lambda.keras")
    trusted = kerasdl.load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_allclose(trusted.predict(np.ones((1, 2)), verbose=0), [[2.0, 2.0]])

    model = kerasdl.build("mlp")
    model.save(tmp_path / "mlp.keras")
    data = (tmp_path / "mlp.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut.keras is not a readable .keras file: it is "
                                         r"truncated or corrupt"):
        kerasdl.load_model(tmp_path / "cut.keras")
    with zipfile.ZipFile(tmp_path / "garbled.keras", "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(ValueError, match=r"garbled.keras could not be loaded: Expecting"):
        kerasdl.load_model(tmp_path / "garbled.keras")
    with pytest.raises(FileNotFoundError, match=r"No model file at .*missing.keras"):
        kerasdl.load_model(tmp_path / "missing.keras")
