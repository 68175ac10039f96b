"""A convolutional classifier's feature maps as the encoder of a dense model (U-Net, YOLO)."""

import keras

from kerasdl.blocks import feature_maps
from kerasdl.registry import get_spec, list_models
from kerasdl.weights import load_weights


def backbone_features(backbone, input_shape, weights=None, *, model, select=None):
    """The feature maps of `backbone` on `input_shape`, as one sub-model named
    "backbone" (so that fine-tuning can freeze it by name), highest resolution first.

    Args:
        backbone: the name of a convolutional model -- built as its `kerasdl train`
            recipe builds it (its widths), without the classifier -- or a model of
            feature maps, ``kerasdl.build(name, features=True, ...)``.
        weights: the path of a trained classifier of that name (``model.keras``), whose
            convolutions the backbone takes (a name only).
        model: the name of the model being built, for the errors.
        select: maps -> the map(s) the model uses, when not all: the sub-model then ends
            there, without the layers after it (YOLO takes one map).
    """
    if isinstance(backbone, str):
        convolutional = list_models(family="convolutional")
        if backbone not in convolutional:
            raise ValueError(f"{model}'s `backbone` must be a convolutional model, one of "
                             f"{convolutional}, or a model of feature maps (kerasdl.build("
                             f"name, features=True)); received backbone={backbone!r}.")
        spec = get_spec(backbone)
        built = spec.build(**{**spec.train.model, "input_shape": input_shape,
                              "include_top": False})
        if weights is not None:
            load_weights(built, weights)
        backbone = feature_maps(built)
    elif not isinstance(backbone, keras.Model):
        raise TypeError(f"{model}'s `backbone` must be a model name or a keras.Model of "
                        f"feature maps; received {type(backbone).__name__}.")
    elif weights is not None:
        raise ValueError(f"{model}: `backbone_weights` goes with a backbone name; a built "
                         f"backbone has its weights already (kerasdl.build(name, "
                         f"features=True, weights=PATH)).")
    if tuple(backbone.inputs[0].shape[1:]) != tuple(input_shape):
        raise ValueError(f"{model}'s backbone takes inputs of shape "
                         f"{tuple(backbone.inputs[0].shape[1:])}, not the model's "
                         f"input_shape={tuple(input_shape)}; build it at that shape.")
    outputs = backbone.outputs if select is None else select(backbone.outputs)
    return keras.Model(backbone.inputs, outputs, name="backbone")
