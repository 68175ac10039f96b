"""Every use of a private Keras or KerasTuner module, in one place.

kerasdl needs three things that the public APIs do not offer. Each is wrapped here so
that a Keras release that moves one breaks one function, named in the traceback.
The versions these were checked against are bounded in `pyproject.toml`
(keras < 3.16, keras-tuner < 1.5).
"""


def current_stateless_scope():
    """The innermost active `keras.StatelessScope` (JAX custom training steps read and
    extend its state mapping)."""
    from keras.src.backend.common.stateless_scope import get_stateless_scope

    return get_stateless_scope()


def is_tuner_worker():
    """True in a KerasTuner chief/worker search's worker processes."""
    from keras_tuner.src.distribute import utils

    return utils.has_chief_oracle() and not utils.is_chief_oracle()


def save_legacy_h5_weights(model, path):
    """Write `model`'s weights in the legacy layout of keras.applications' ``.h5`` files
    (layer by layer, in order), the layout `Model.load_weights` reads from them."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
