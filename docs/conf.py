"""Sphinx configuration of the lossfuse documentation.

Build (from the repository root, with lossfuse and the ``docs`` extra installed)::

    sphinx-build -W -b html docs docs/_build/html
    sphinx-build -W -b doctest docs docs/_build/doctest

lossfuse is imported as installed, or from ``PYTHONPATH=$PWD/src`` in a tree with built kernels
(an absolute path: some examples run ``python -m lossfuse`` in another directory).

The adapters' dependencies (PyTorch, Dask, LightGBM, XGBoost) are optional here too: a
package that is not installed is mocked for autodoc, so the API reference still builds, and
the examples that need it are skipped by the doctest builder.
"""

import importlib

from sphinx.util import logging

import lossfuse

project = "lossfuse"
author = "the lossfuse developers"
copyright = "the lossfuse developers"
version = release = lossfuse.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
]

exclude_patterns = ["_build"]
templates_path = ["_templates"]
# `name` in a docstring is a cross-reference when it names a documented object, as in NumPy's
# documentation; anything else renders as code.
default_role = "py:obj"

# ---------------------------------------------------------------- optional dependencies
# Packages that lossfuse does not need but examples use, and the modules to import to know
# that one is usable.  Each adapter, lossfuse.NAME, needs the package NAME (the extra NAME
# brings it); where that is missing, autodoc mocks it.
EXAMPLE_PACKAGES = {
    "torch": ("torch",),
    "dask": ("dask", "dask.array"),
    "lightgbm": ("lightgbm",),
    "xgboost": ("xgboost",),
    "sklearn": ("sklearn.metrics",),
}
ADAPTERS = ("torch", "dask", "lightgbm", "xgboost")


def _importable(modules):
    try:
        for module in modules:
            importlib.import_module(module)
    except Exception:      # not installed, or an installation that does not import
        return False
    return True


#: the example packages this build lacks
MISSING = sorted(p for p, modules in EXAMPLE_PACKAGES.items() if not _importable(modules))
autodoc_mock_imports = [p for p in ADAPTERS if p in MISSING]

# ---------------------------------------------------------------------------- autodoc
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"            # the numpydoc sections give the types
autodoc_preserve_defaults = True
autodoc_member_order = "bysource"
autodoc_inherit_docstrings = False    # not torch.nn.Module's docstrings for our overrides
numpydoc_show_class_members = False   # the class template lists the members
numpydoc_class_members_toctree = False

# ---------------------------------------------------------------------------- doctest
# Every example is run by `sphinx-build -b doctest`.  `missing` names the example packages
# this build lacks (``:skipif: "torch" in missing``).
doctest_global_setup = f"""
import numpy as np
import lossfuse as lf
missing = {MISSING!r}
"""
trim_doctest_flags = True

# ------------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"lossfuse {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
html_show_sourcelink = False

# ------------------------------------------------------------------------ extensions
logger = logging.getLogger(__name__)


def _skip_examples_of_missing(app, what, name, obj, options, lines):
    """Docstring examples of an adapter whose package is missing here are marked ``+SKIP``
    for the doctest builder (the HTML shows them unchanged)."""
    parts = name.split(".")
    if len(parts) < 2 or parts[0] != "lossfuse" or parts[1] not in autodoc_mock_imports:
        return
    for i, line in enumerate(lines):
        code = line.lstrip()[4:].strip() if line.lstrip().startswith(">>> ") else ""
        if code and not code.startswith("#"):       # doctest refuses options on comments
            lines[i] = line + "  # doctest: +SKIP"


def _check_every_public_name_documented(app, env):
    """A warning (an error under -W) for every name in a public module's ``__all__`` that the
    API reference does not document."""
    documented = set(env.domains["py"].objects)
    for module_name in ["lossfuse", "lossfuse.metrics", *(f"lossfuse.{a}" for a in ADAPTERS)]:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            if f"{module_name}.{name}" not in documented:
                logger.warning(f"{module_name}.{name} is public but not in the API reference")


def setup(app):
    app.connect("autodoc-process-docstring", _skip_examples_of_missing)
    app.connect("env-check-consistency", _check_every_public_name_documented)
