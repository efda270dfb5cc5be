"""Imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

#: the pip extra that brings each optional top-level package
EXTRAS = {
    "dask": "dask",
    "lightgbm": "lightgbm",
    "matplotlib": "plot",
    "pyarrow": "score",
    "torch": "torch",
    "xgboost": "xgboost",
}


class MissingDependencyError(ModuleNotFoundError):
    """An optional dependency of lossfuse is not installed; the message names the extra."""


def missing_message(module: str, purpose: str) -> str:
    """The message for a missing optional `module` that `purpose` needs.

    Parameters
    ----------
    module : str
        The module that could not be imported, e.g. ``"pyarrow.parquet"``.
    purpose : str
        What needs it, as the start of a sentence, e.g. ``"reading .parquet"``.

    Returns
    -------
    str
        One line: what needs which package, and the pip command that installs it (with the
        lossfuse extra that brings it, where there is one).

    Examples
    --------
    >>> missing_message("pyarrow.parquet", "reading .parquet")
    "reading .parquet needs pyarrow, which is not installed: pip install 'lossfuse[parquet]'"
    """
    top = module.partition(".")[0]
    extra = EXTRAS.get(top)
    how = (f"pip install 'lossfuse[{extra}]'" if extra is not None
           else f"pip install {top}")
    return f"{purpose} needs {top}, which is not installed: {how}"


def import_optional(module: str, purpose: str) -> ModuleType:
    """Import an optional dependency, or say which extra brings it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"pyarrow.parquet"``.
    purpose : str
        What needs it, for the message, e.g. ``"reading .parquet"`` or ``"lossfuse.dask"``.

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        When `module` itself or a package it belongs to is not installed (or is blocked, as a
        ``None`` entry in ``sys.modules`` does); the message is `missing_message`'s.  Any other
        error raised while an installed package imports (a module *inside* it that is missing,
        a broken build) propagates unchanged: installing the extra would not mend it.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as e:
        parts = module.split(".")
        packages = {".".join(parts[:k]) for k in range(1, len(parts) + 1)}
        if e.name not in packages:
            raise
        raise MissingDependencyError(missing_message(module, purpose), name=e.name) from None
