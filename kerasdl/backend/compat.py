"""Every use of a private Keras or KerasTuner module, in one place.

kerasdl needs seven things that the public APIs do not offer (one of them,
`load_weights_reporting_mismatches`, is public but reports what it skipped only in a
warning's text). Each is wrapped here so that a Keras release that moves one breaks one
function, named in the traceback. (The other private uses are the speed-ups that
`kerasdl.backend.use_fast_kernels` installs, each in its own module, each checked against
the Keras release and signature it was written for.) These were written for Keras 3.15
and KerasTuner 1.4 (`keras-tuner<1.5` in `pyproject.toml`). Each function imports the
private module it uses, so that one moved module fails that function alone, and
KerasTuner is imported only by what needs it.
"""

import json
import os
import re
import warnings



def current_stateless_scope():
    """The innermost active `keras.StatelessScope` (JAX custom training steps read and
    extend its state mapping)."""
    from keras.src.backend.common.stateless_scope import get_stateless_scope

    return get_stateless_scope()


def is_tuner_worker():
    """True in a KerasTuner chief/worker search's worker processes."""
    from keras_tuner.src.distribute import utils

    return utils.has_chief_oracle() and not utils.is_chief_oracle()


def drop_finished_retries(oracle):
    """Take the trials whose own record says they ended (completed or failed for good) out
    of a reloaded KerasTuner `oracle`'s retry queue, the trials it would run again first."""
    oracle._retry_queue = [t for t in oracle._retry_queue
                           if oracle.trials[t].status not in ("COMPLETED", "FAILED")]


def write_tuner_files_whole():
    """Make KerasTuner write its state files (``oracle.json``, ``trial.json``, the tuner's)
    whole or not at all: into ``NAME.partial``, then renamed over ``NAME``. KerasTuner
    opens the file itself for writing, emptying it, so a search killed during a write
    left an empty ``oracle.json`` and could not be resumed. Remote paths (``gs://...``,
    through `tf.io.gfile`) keep KerasTuner's own write. Installing twice is harmless."""
    from keras_tuner.src import utils

    save_json = utils.save_json
    if getattr(save_json, "writes_whole", False):
        return

    def save_json_whole(path, obj):
        if "://" in str(path):
            return save_json(path, obj)
        text = json.dumps(obj)
        partial = f"{path}.partial"
        with open(partial, "w") as f:
            f.write(text)
        os.replace(partial, path)
        return text

    save_json_whole.writes_whole = True
    utils.save_json = save_json_whole


def save_legacy_h5_weights(model, path):
    """Write `model`'s weights in the legacy layout of keras.applications' ``.h5`` files
    (layer by layer, in order), the layout `Model.load_weights` reads from them."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def load_weights_reporting_mismatches(model, path):
    """``model.load_weights(path, skip_mismatch=True)`` (a ``.keras`` or ``.weights.h5``
    file), returning the names of the layers it could not load: Keras loads every other
    layer and only warns about these, naming them in the warning's text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.load_weights(path, skip_mismatch=True)
    names = []
    for warning in caught:
        text = str(warning.message)
        if "could not be loaded" in text:
            names += re.findall(r"name=([^,>]+)", text.split("could not be loaded:")[-1])
        elif not text.startswith("Skipping nested container"):  # Keras's own bookkeeping
            warnings.warn(warning.message, warning.category)
    return names


def backup_weights_path(callback):
    """The weights file a `keras.callbacks.BackupAndRestore` saves to and restores from."""
    return callback._weights_path
