"""kerasdl: classic deep-learning architectures as Keras 3 functional builders.

    >>> import kerasdl
    >>> kerasdl.list_models("resnet*")
    ['resnet18', 'resnet34', 'resnet50']
    >>> model = kerasdl.build("lenet5")

Importing kerasdl does not import Keras, so that a program (such as the `kerasdl`
command) can still choose `KERAS_BACKEND`. Once Keras is imported, before or after
kerasdl, kerasdl's layers, losses and model classes are registered with it, so that plain
`keras.saving.load_model` reads every kerasdl file.
"""

import importlib
import importlib.abc
import importlib.machinery
import sys

__version__ = "0.1.0"

_LAZY = {"build": "building", "load_model": "building", "feature_info": "building",
         "list_models": "registry",
         "model_info": "registry", "evaluate": "evaluation", "datasets": None,
         "training": None, "evaluation": None, "recipe": None, "layers": None,
         "blocks": None, "sequences": None, "registry": None, "building": None,
         "backend": None, "detection": None}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'kerasdl' has no attribute {name!r}")
    if _LAZY[name] is None:
        return importlib.import_module(f"kerasdl.{name}")
    return getattr(importlib.import_module(f"kerasdl.{_LAZY[name]}"), name)


def _register_classes():
    importlib.import_module("kerasdl.building").register_classes()


def _initializing(module):
    return getattr(getattr(module, "__spec__", None), "_initializing", False)


class _RegisterWithKeras(importlib.abc.MetaPathFinder):
    """Registers kerasdl's classes with Keras once both are imported (a post-import hook:
    Python has none built in). It finds Keras's module and kerasdl's own as Python would,
    and wraps their loaders so that each import, once executed, checks whether Keras is
    there and no kerasdl module is still half-imported (Keras imported from the middle of
    one); the first time both hold, it registers and steps aside."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras" and not name.startswith("kerasdl."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            self.register_if_ready(module)

        spec.loader.exec_module = exec_then_register
        return spec

    def register_if_ready(self, done):
        others = [m for n, m in list(sys.modules.items())
                  if n.startswith("kerasdl.") and m is not done]
        if "keras" in sys.modules and self in sys.meta_path and not any(
                _initializing(m) for m in others):
            sys.meta_path.remove(self)
            _register_classes()


if "keras" in sys.modules:
    _register_classes()
else:
    sys.meta_path.insert(0, _RegisterWithKeras())

__all__ = ["build", "list_models", "model_info", "load_model", "evaluate", "datasets",
           "training", "evaluation", "recipe", "sequences", "__version__"]
