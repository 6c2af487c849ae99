"""Attributes of a package imported on first use, so that importing the package stays light."""

import importlib


def lazy_attributes(package, table):
    """A module `__getattr__` that imports `table[name]` (a module path) when `name` is first used.

    Example (in a package's `__init__.py`):

    >>> _LAZY = {"load": "deepedge.runtime"}
    >>> __getattr__ = lazy_attributes(__name__, _LAZY)
    """

    def __getattr__(name):
        if name in table:
            return getattr(importlib.import_module(table[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
