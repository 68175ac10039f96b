"""kerasdl: classic deep-learning architectures as Keras 3 functional builders.

    >>> import kerasdl
    >>> kerasdl.list_models("resnet*")
    ['resnet18', 'resnet34', 'resnet50']
    >>> model = kerasdl.build("lenet5")

Importing kerasdl does not import Keras: `kerasdl.build` and friends load it on first
use, so a program (such as the `kerasdl` command) can still choose `KERAS_BACKEND`.
"""

__version__ = "0.1.0"

_LAZY = {"build": "registry", "list_models": "registry", "model_info": "registry",
         "load_model": "registry", "evaluate": "evaluation", "datasets": None,
         "training": None, "evaluation": None, "recipe": None, "layers": None,
         "blocks": None, "sequences": None, "registry": None}


def __getattr__(name):
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module 'kerasdl' has no attribute {name!r}")
    if _LAZY[name] is None:
        return importlib.import_module(f"kerasdl.{name}")
    return getattr(importlib.import_module(f"kerasdl.{_LAZY[name]}"), name)


__all__ = ["build", "list_models", "model_info", "load_model", "evaluate", "datasets",
           "training", "evaluation", "recipe", "sequences", "__version__"]
