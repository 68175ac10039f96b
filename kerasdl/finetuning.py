"""Transfer learning: start a kerasdl model from trained weights, then fine-tune it.

- `kerasdl.weights.load_weights(model, path)`: what `kerasdl.build(name, weights=PATH)`
  does, the start.
- `set_trainable(model, unfreeze)`: the classifier, plus the top `unfreeze` blocks.
- `finetune(model, train, test)`: the two phases of the Keras transfer-learning guide: a
  new head trained on the frozen base, then the top blocks unfrozen at a lower learning
  rate. Batch normalization stays frozen in both, so it runs in inference mode (the
  guide's ``base_model(x, training=False)``).

Blocks are read from layer names, which kerasdl builders give the keras.applications way:
the block of ``conv2_block1_1_conv`` is ``conv2``, of ``block3_conv1`` ``block3``, of
``fc1`` ``fc1``.
"""

import keras

from kerasdl.recipe import Recipe
from kerasdl.training import train_model
from kerasdl.weights import is_head

def block_of(layer):
    """The block a layer belongs to: its name up to the first underscore."""
    return layer.name.split("_")[0]


def set_trainable(model, unfreeze=0):
    """Freeze `model` but its classifier and its top `unfreeze` blocks (an integer, or
    "all"); batch normalization stays frozen. Returns the names of the trainable layers."""
    weighted = [layer for layer in model.layers if layer.weights]
    blocks = list(dict.fromkeys(block_of(layer) for layer in weighted if not is_head(layer)))
    if unfreeze == "all":
        top = set(blocks)
    elif isinstance(unfreeze, int) and not isinstance(unfreeze, bool) and unfreeze >= 0:
        top = set(blocks[len(blocks) - unfreeze:]) if unfreeze else set()
    else:
        raise ValueError(f"`unfreeze` must be an integer >= 0 (blocks from the top) or 'all'; "
                         f"received unfreeze={unfreeze!r}. {model.name}'s blocks: {blocks}.")
    if not any(is_head(layer) for layer in weighted):
        raise ValueError(f"{model.name} has no classifier layer named 'predictions' to train; "
                         f"fine-tuning needs a classifier (include_top=True).")
    for layer in model.layers:
        layer.trainable = is_head(layer) or (
            block_of(layer) in top and not isinstance(layer, keras.layers.BatchNormalization))
    return [layer.name for layer in weighted if layer.trainable]


def finetune(model, train, test=None, *, recipe=None, head_epochs=10, finetune_epochs=10,
             lr=1e-3, finetune_lr=1e-4, unfreeze="all", seed=0, output_dir=None, verbose=0):
    """Fine-tune `model` (built with pretrained `weights`) on `train`, in two phases.

    Phase 1 trains the classifier alone on the frozen base for `head_epochs` at `lr`;
    phase 2 also unfreezes the top `unfreeze` blocks (or "all") for `finetune_epochs` at
    the lower `finetune_lr`. Each phase is `kerasdl.training.train_model` with `recipe`
    (validation split, early stopping, augmentation, ...); `test` is evaluated once, at the
    end.

    Returns:
        ``(history_of_each_phase, metrics)``; metrics as `train_model`'s, plus the
        trainable layers of each phase under ``trainable``.
    """

    recipe = recipe or Recipe()
    if recipe.task not in (None, "classification", "binary"):
        raise ValueError(f"finetune trains a classifier; received task={recipe.task!r}.")
    histories, trainable = [], []
    phases = [(0, head_epochs, lr)] + ([(unfreeze, finetune_epochs, finetune_lr)]
                                       if finetune_epochs else [])
    for i, (blocks, epochs, rate) in enumerate(phases):
        trainable.append(set_trainable(model, blocks))
        if verbose:
            print(f"kerasdl finetune phase {i + 1}: {epochs} epochs at lr {rate}, trainable: "
                  f"{trainable[-1]}")
        last = i == len(phases) - 1
        history, metrics = train_model(model, train, test if last else None, recipe=recipe,
                                       epochs=epochs, lr=rate, seed=seed,
                                       output_dir=output_dir, verbose=verbose)
        histories.append(history)
    metrics["trainable"] = trainable
    return histories, metrics
