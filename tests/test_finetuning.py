"""Starting from trained weights (`build(weights=...)`) and the two-phase fine-tuning."""

import keras
import numpy as np
import pytest

import kerasdl
from kerasdl.finetuning import finetune, set_trainable
from kerasdl.registry import get_spec
from kerasdl.testing import example

TINY = get_spec("lenet5").test_kwargs  # 28x28x1, 3 classes


def _numpy(model):
    return {w.path: keras.ops.convert_to_numpy(w) for w in model.weights}


@pytest.mark.parametrize("suffix", [".keras", ".weights.h5"])
def test_weights_of_another_class_count_load_all_but_the_rebuilt_head(suffix, tmp_path):
    source = kerasdl.build("lenet5", **TINY)
    path = str(tmp_path / f"source{suffix}")
    source.save(path) if suffix == ".keras" else source.save_weights(path)
    same = kerasdl.build("lenet5", **TINY, weights=path)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(same.predict(x, verbose=0), source.predict(x, verbose=0), atol=1e-6)

    target = kerasdl.build("lenet5", **{**TINY, "num_classes": 7}, weights=path)
    loaded, fresh = _numpy(target), _numpy(source)
    assert loaded["predictions/kernel"].shape == (12, 7)
    for name, value in fresh.items():
        if not name.startswith("predictions"):
            np.testing.assert_array_equal(loaded[name], value)


def test_weights_of_another_architecture_name_the_first_misfit(tmp_path):
    path = str(tmp_path / "cnn.weights.h5")
    kerasdl.build("simple_cnn", input_shape=(28, 28, 1), filters=(4, 8), units=(16,)).save_weights(path)
    with pytest.raises(ValueError, match=r"do not fit lenet5: layer 'c1_conv' does not match"):
        kerasdl.build("lenet5", **TINY, weights=path)
    with pytest.raises(ValueError, match=r"not a Keras weights file"):
        kerasdl.build("lenet5", **TINY, weights=__file__)


def test_set_trainable_unfreezes_the_top_blocks_and_never_batch_norm():
    model = kerasdl.build("resnet18", **get_spec("resnet18").test_kwargs)
    assert set_trainable(model, 0) == ["predictions"]
    top = set_trainable(model, 1)
    assert top[-1] == "predictions" and {n.split("_")[0] for n in top[:-1]} == {"conv5"}
    assert not any(n.endswith("_bn") for n in top)
    everything = set_trainable(model, "all")
    assert "conv1_conv" in everything and not any(n.endswith("_bn") for n in everything)
    with pytest.raises(ValueError, match=r"unfreeze.*received unfreeze=-1.*\['conv1', 'conv2'"):
        set_trainable(model, -1)


def test_finetune_trains_the_head_first_then_the_unfrozen_blocks(rng):
    """Only the classifier and the unfrozen block (fc2) change; the frozen layers never
    do; the loss falls over the two phases."""
    x, y, _ = example(get_spec("lenet5"), rng, n=96)
    keras.utils.set_random_seed(0)
    model = kerasdl.build("lenet5", **TINY)
    before = _numpy(model)
    histories, metrics = finetune(model, (x, y), (x, y), head_epochs=3, finetune_epochs=3,
                                  lr=3e-2, finetune_lr=1e-2, unfreeze=1)
    assert metrics["trainable"] == [["predictions"], ["fc2", "predictions"]]
    after = _numpy(model)
    changed = {n for n in after if not np.array_equal(after[n], before[n])}
    assert changed == {"fc2/kernel", "fc2/bias", "predictions/kernel", "predictions/bias"}
    assert histories[1].history["loss"][-1] < histories[0].history["loss"][0]
    assert "test_accuracy" in metrics  # the test set is read once, after phase 2
