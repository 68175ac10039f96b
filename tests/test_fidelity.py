"""Parameter counts at each paper's size, and keras.applications weight compatibility."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl.registry import get_spec


def _trainable(model):
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


# Trainable parameters (what papers and torchvision count) and all weights including
# batch-norm moving statistics (what keras.applications' summaries count).
COUNTS = {
    "lenet5": (61_706, 61_706),
    "alexnet": (62_378_344, 62_378_344),
    "vgg11": (132_863_336, 132_863_336),
    "vgg13": (133_047_848, 133_047_848),
    "vgg16": (138_357_544, 138_357_544),
    "vgg19": (143_667_240, 143_667_240),
    "googlenet": (6_624_904, 6_639_464),
    "resnet18": (11_689_512, 11_699_112),
    "resnet34": (21_797_672, 21_814_696),
    "resnet50": (25_557_032, 25_610_152),
    "densenet121": (7_978_856, 8_062_504),
    "simple_cnn": (206_922, 206_922),
    "mlp": (82, 82),
    "simple_rnn": (16_897, 16_897),
    "lstm": (67_201, 67_201),
    "gru": (50_817, 50_817),
    "bilstm": (134_401, 134_401),
    "bigru": (101_633, 101_633),
    "seq2seq_attention": (219_924, 219_924),
    "transformer_classifier": (2_825_218, 2_825_218),
    "transformer_seq2seq": (670_228, 670_228),
    "word2vec_skipgram": (2_560_000, 2_560_000),
    "word2vec_cbow": (2_570_000, 2_570_000),
    "autoencoder_dense": (209_968, 209_968),
    "autoencoder_sparse": (209_968, 209_968),
    "autoencoder_conv": (120_769, 120_769),
    "autoencoder_denoising": (120_769, 120_769),
    "vae": (807_700, 807_700),
    "gan_mlp": (1_093_137, 1_093_137),  # G 100-256-512-784: 559,632; D 784-512-256-1: 533,505
    "dcgan": (910_786, 923_714),
    "wgan_gp": (910_530, 923_202),
    "cgan": (1_098_357, 1_098_357),
}


def test_every_model_has_a_reference_count():
    assert sorted(COUNTS) == kerasdl.list_models()


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_parameter_count_at_paper_size(name):
    model = kerasdl.build(name)
    trainable, total = COUNTS[name]
    # Subclassed models (GAN, VAE) take samples through their discriminator or encoder.
    part = getattr(model, "discriminator", None) or getattr(model, "encoder", None) or model
    assert tuple(part.inputs[0].shape[1:]) == get_spec(name).default_input
    assert _trainable(model) == trainable == get_spec(name).params
    assert model.count_params() == total
    keras.backend.clear_session()


def test_googlenet_with_the_papers_5x5_branch_and_no_batch_norm():
    model = kerasdl.build("googlenet", large_kernel=5, batch_norm=False)
    assert _trainable(model) == 6_998_552


def test_lenet5_pads_mnist_to_32():
    model = kerasdl.build("lenet5", input_shape=(28, 28, 1))
    assert model.get_layer("pad").output.shape[1:3] == (32, 32)
    assert _trainable(model) == 61_706


def _legacy_h5(model, path):
    """Write `model`'s weights the way keras.applications' weight files are written."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


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
    _legacy_h5(reference, path)

    model = kerasdl.build(name, input_shape=kwargs["input_shape"],
                          include_top=kwargs["include_top"],
                          num_classes=kwargs.get("classes", 1000), weights=str(path))
    x = rng.random((2, *kwargs["input_shape"])).astype("float32") * 255
    expected = reference.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-4,
                               atol=1e-5 * np.abs(expected).max())
