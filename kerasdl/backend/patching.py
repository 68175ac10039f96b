"""Replacing a Keras function, checked first and reversible.

Each of kerasdl's speed-ups (`kerasdl.backend.use_fast_kernels`) replaces one attribute of a
private Keras module or class. A `Patch` records the attribute, its replacement, the Keras
release and the signature of the function it was written for, and where its reason holds
(`applies`, e.g. only on a CPU). `install` checks the function it would replace: if Keras's
version or the function's signature is not the one the patch was written for, the patch
stays off and kerasdl warns once, naming it, so that a newer Keras runs at its own speed
instead of breaking. `uninstall` puts Keras's own function back, exactly.
"""

import inspect
import warnings

import keras

# the Keras releases (major.minor) every patch was written for and tested with
WRITTEN_FOR = ("3.15",)

_warned = set()


class Patch:
    """``owner.attribute = replacement``, checked and reversible.

    Args:
        owner: the module or class that holds the attribute.
        attribute: its name.
        replacement: the new value; with ``wrap=True``, a function of the original that
            returns the new value.
        signature: ``str(inspect.signature(original))`` of the function it was written
            for; None: the replacement's own (written with the original's arguments);
            False: not checked (`applies` checks the original instead).
        applies: a function with no arguments, true where the patch's reason holds (a
            CPU, a jaxlib that takes a compiler option, ...); None: everywhere.
        name: how warnings and `kerasdl.backend.fast_kernels` name it.
    """

    def __init__(self, owner, attribute, replacement, *, signature=None, applies=None, wrap=False,
                 name=None):
        self.owner, self.attribute = owner, attribute
        self.original = getattr(owner, attribute)
        self.replacement = replacement(self.original) if wrap else replacement
        if signature is None:
            signature = str(inspect.signature(self.replacement))
        self.signature, self.applies = signature, applies
        self.name = name or f"{getattr(owner, '__name__', owner)}.{attribute}"

    @property
    def installed(self):
        return getattr(self.owner, self.attribute) is self.replacement

    def mismatch(self):
        """Why the Keras here is not the one this patch was written for (None: it is)."""
        version = ".".join(keras.__version__.split(".")[:2])
        if version not in WRITTEN_FOR:
            return f"it was written for Keras {', '.join(WRITTEN_FOR)}, this is {keras.__version__}"
        if self.signature is not False:
            try:
                found = str(inspect.signature(self.original))
            except (TypeError, ValueError):
                found = "no signature"
            if found != self.signature:
                return f"Keras's function has the signature {found}, not {self.signature}"
        return None

    def install(self):
        """Replace the attribute if Keras is the expected one and the reason holds; True if
        installed."""
        if self.installed:
            return True
        reason = self.mismatch()
        if reason is not None:
            if self.name not in _warned:
                _warned.add(self.name)
                warnings.warn(f"kerasdl leaves its speed-up of {self.name} off: {reason}. "
                              f"Keras's own function runs (correct, maybe slower).",
                              stacklevel=4)
            return False
        if self.applies is not None and not self.applies():
            return False
        setattr(self.owner, self.attribute, self.replacement)
        return True

    def uninstall(self):
        """Put Keras's own attribute back (if this patch had replaced it)."""
        if self.installed:
            setattr(self.owner, self.attribute, self.original)


class Setting:
    """A process-wide setting that is part of the same switch (PyTorch's flushing of
    denormal floats): `on` and `off` are functions of no arguments."""

    def __init__(self, name, on, off):
        self.name, self._on, self._off = name, on, off
        self.installed = False

    def install(self):
        if not self.installed:
            self._on()
            self.installed = True
        return True

    def uninstall(self):
        if self.installed:
            self._off()
            self.installed = False
