"""Imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

#: the pip extra that brings each optional top-level package
EXTRAS = {
    "dask": "dask",
    "lightgbm": "lightgbm",
    "matplotlib": "plot",
    "pyarrow": "parquet",
    "torch": "torch",
    "xgboost": "xgboost",
}


class MissingDependencyError(ModuleNotFoundError):
    """An optional dependency of lossfuse is not installed; the message names the extra."""


def missing_message(module: str, purpose: str) -> str:
    """The message for a missing optional `module` that `purpose` needs."""
    top = module.partition(".")[0]
    extra = EXTRAS.get(top)
    how = (f"pip install 'lossfuse[{extra}]'" if extra is not None
           else f"pip install {top}")
    return f"{purpose} needs {top}, which is not installed: {how}"


def import_optional(module: str, purpose: str) -> ModuleType:
    """Import `module` (e.g. ``"pyarrow.parquet"``), or raise `MissingDependencyError`
    saying that `purpose` (e.g. ``"lossfuse.dask"``) needs it and which extra brings it.

    Only a missing `module` itself (or its parent package) is reported that way; an error
    raised while the installed package imports propagates unchanged."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        top = module.partition(".")[0]
        if e.name is None or e.name.partition(".")[0] != top:
            raise
        raise MissingDependencyError(missing_message(module, purpose), name=e.name) from None
