"""The public API as a type checker and the docs see it.

- mypy accepts the typed usage examples (tests/typing/usage.py), whose annotations also hold
  at run time, and reports every deliberate misuse in tests/typing/misuse.py on its line
  with the error code its comment names, and nothing else;
- the stubs of the compiled modules match them (mypy.stubtest), with an allowlist of
  Cython's own artifacts only;
- the docstrings of the public API are valid numpydoc, and their examples run;
- an adapter whose optional dependency is missing fails to import with an error naming the
  extra that brings it.

mypy checks both files in one run, with a cache of its own (about 30 s cold, most of it
reading torch's, LightGBM's and XGBoost's annotations).
"""

import ast
import doctest
import importlib
import importlib.util
import inspect
import io
import os
import re
import runpy
import subprocess
import sys
import tokenize
import typing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TYPING = ROOT / "tests" / "typing"
USAGE = TYPING / "usage.py"
MISUSE = TYPING / "misuse.py"
ALLOWLIST = TYPING / "stubtest-allowlist.txt"
# the adapters, with the optional dependency each needs and the pip extra that brings it
ADAPTERS = {"torch": ("torch", "torch"), "dask": ("dask", "dask"),
            "lightgbm": ("lightgbm", "lightgbm"), "xgboost": ("xgboost", "xgboost")}
MYPY_MISSING = "mypy is not installed (pip install 'lossfuse[test]')"
# "path:line: error: message  [code]"
MYPY_ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)"
                        r"(?:  \[(?P<code>[a-z0-9-]+)\])?$")


def missing_dependencies() -> list:
    return [dep for dep, _ in ADAPTERS.values() if importlib.util.find_spec(dep) is None]


def skip_without_dependencies() -> None:
    missing = missing_dependencies()
    if missing:
        pytest.skip(f"usage.py uses every adapter; not installed: {', '.join(missing)}")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory):
    """mypy's errors for misuse.py and (where every adapter's dependency is installed)
    usage.py, in one run: a list of (path, line, code, message)."""
    api = pytest.importorskip("mypy.api", reason=MYPY_MISSING)
    files = [MISUSE] + ([] if missing_dependencies() else [USAGE])
    config = ROOT / "pyproject.toml"
    args = [str(f) for f in files] + [
        "--strict", "--untyped-calls-exclude=dask",
        "--cache-dir", str(tmp_path_factory.mktemp("mypy-cache")),
        "--no-pretty", "--no-error-summary", "--show-error-codes", "--no-color-output"]
    if config.exists():
        args += ["--config-file", str(config)]
    stdout, stderr, status = api.run(args)
    assert status in (0, 1), stdout + stderr           # 2: mypy itself failed
    errors = []
    for line in stdout.splitlines():
        m = MYPY_ERROR.match(line)
        if m:
            errors.append((Path(m["path"]).resolve(), int(m["line"]), m["code"], m["message"]))
    return errors


def expected_misuse_errors() -> set:
    """(line, code) for each ``# E: code[, code]`` comment in misuse.py."""
    expected = set()
    with open(MISUSE, encoding="utf-8") as f:
        for token in tokenize.generate_tokens(f.readline):
            m = re.fullmatch(r"#\s*E:\s*(.+)", token.string) if token.type == tokenize.COMMENT \
                else None
            if m:
                expected |= {(token.start[0], code.strip()) for code in m[1].split(",")}
    return expected


def test_usage_type_checks_clean(mypy_errors):
    skip_without_dependencies()
    errors = [e for e in mypy_errors if e[0] != MISUSE]
    assert not errors, "\n".join(f"{p}:{line}: {message} [{code}]"
                                 for p, line, code, message in errors)


def test_misuse_gives_exactly_the_expected_errors(mypy_errors):
    expected = expected_misuse_errors()
    assert len(expected) >= 30                         # the comments were read
    got = {(line, code) for path, line, code, _ in mypy_errors if path == MISUSE}
    messages = {(line, code): message for path, line, code, message in mypy_errors
                if path == MISUSE}
    missed = sorted(expected - got)
    unexpected = sorted(got - expected)
    assert not missed and not unexpected, (
        f"expected but not reported (line, code): {missed}\n"
        "reported but not expected:\n" + "\n".join(f"  line {line}: {messages[line, code]} "
                                                   f"[{code}]" for line, code in unexpected))


def test_usage_runs_and_its_values_have_the_declared_types():
    skip_without_dependencies()
    runpy.run_path(str(USAGE), run_name="__main__")


def test_the_loss_names_a_type_checker_knows_are_the_registered_ones():
    """The Literal types of the names (which overloads pick the result type by) hold every
    canonical name and alias, each once, cross_entropy's apart."""
    from lossfuse import _losses
    cross_entropy = typing.get_args(_losses.CrossEntropyName)
    elementwise = typing.get_args(_losses.ElementwiseName)
    registered = {name: spec.name for name, spec in _losses.BY_NAME.items()}
    assert sorted(cross_entropy) == sorted(n for n, s in registered.items()
                                           if s == "cross_entropy")
    assert sorted(elementwise) == sorted(n for n, s in registered.items()
                                         if s != "cross_entropy")


def _annotations(tree):
    """Every annotation expression in a module's syntax tree."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation


def _newer_than_3_9(annotation) -> bool:
    """Whether an annotation, evaluated, needs Python 3.10: ``X | Y``."""
    return any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr)
               for n in ast.walk(annotation))


@pytest.mark.parametrize("path", sorted((ROOT / "src" / "lossfuse").rglob("*.py")),
                         ids=lambda p: p.name)
def test_modules_are_python_3_9(path):
    """requires-python is 3.9: the syntax is 3.9's, and annotations written ``X | Y`` are
    never evaluated (``from __future__ import annotations``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 9))
    postponed = any(isinstance(n, ast.ImportFrom) and n.module == "__future__"
                    and any(a.name == "annotations" for a in n.names) for n in tree.body)
    newer = [a.lineno for a in _annotations(tree) if _newer_than_3_9(a)]
    assert postponed or not newer, f"X | Y annotations without postponed evaluation: {newer}"


# ---------------------------------------------------------------------------- stubtest
def test_kernel_stubs_match_the_compiled_modules(tmp_path):
    """stubtest on every compiled module, run where nothing but the lossfuse under test is
    importable as lossfuse; unused allowlist entries are errors too (stubtest's default)."""
    pytest.importorskip("mypy.stubtest", reason=MYPY_MISSING)
    import lossfuse
    package_parent = str(Path(lossfuse.__file__).resolve().parents[1])
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH"))
                                        if p)
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "lossfuse._kernels", "--allowlist",
         str(ALLOWLIST), "--mypy-config-file", str(config)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_stubtest_allowlist_names_cython_artifacts_only():
    cython_names = {"__reduce_cython__", "__setstate_cython__", "__test__", "__pyx_capi__"}
    lines = ALLOWLIST.read_text().splitlines()
    entries = 0
    for i, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        entries += 1
        prefix, _, name = line.rpartition(r"\.")
        assert prefix.startswith(r"lossfuse\._kernels") and name in cython_names, line
        # the entry is commented: a comment heads the group of entries it belongs to
        j = i - 1
        while j >= 0 and lines[j].strip() and not lines[j].startswith("#"):
            j -= 1
        assert j >= 0 and lines[j].startswith("#"), f"no comment above {line}"
    assert entries == 4


# --------------------------------------------------------------------------- docstrings
PUBLIC_MODULES = ["lossfuse", "lossfuse.metrics", "lossfuse.torch", "lossfuse.dask",
                  "lossfuse.lightgbm", "lossfuse.xgboost"]
# numpydoc checks not required here: an extended summary, See Also, Examples (given where
# they help)
NUMPYDOC_NOT_REQUIRED = {"ES01", "SA01", "EX01"}


def import_public(module: str):
    adapter = module.rpartition(".")[2]
    if adapter in ADAPTERS:
        pytest.importorskip(ADAPTERS[adapter][0])
    return importlib.import_module(module)


def public_objects(module):
    """The module's public names, and the public methods of its classes (their own, or
    inherited from lossfuse), as numpydoc names them."""
    for name in module.__all__:
        obj = getattr(module, name)
        yield f"{module.__name__}.{name}", obj
        if not inspect.isclass(obj) or issubclass(obj, BaseException):
            continue
        for attr in dir(obj):
            value = getattr(obj, attr)
            defined = getattr(value, "__module__", "") or ""
            if (callable(value) and defined.startswith("lossfuse")
                    and (not attr.startswith("_") or attr == "__call__")):
                yield f"{module.__name__}.{name}.{attr}", value


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_docstrings_are_valid_numpydoc(module):
    validate = pytest.importorskip("numpydoc.validate", reason="numpydoc is not installed")
    problems = []
    for name, _ in public_objects(import_public(module)):
        errors = [f"{code} {message}" for code, message in validate.validate(name)["errors"]
                  if code not in NUMPYDOC_NOT_REQUIRED]
        problems += [f"{name}: {e}" for e in errors]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", PUBLIC_MODULES + ["lossfuse._api", "lossfuse._threads"])
def test_docstring_examples_run(module):
    m = import_public(module)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    out = io.StringIO()
    tests = [t for t in finder.find(m, m.__name__) if t.examples]
    for t in tests:
        runner.run(t, out=out.write)
    assert tests and runner.failures == 0, out.getvalue()


# ------------------------------------------------------------------ missing dependencies
IMPORT_WITHOUT = """
import importlib, sys
sys.modules[{dependency!r}] = None      # as if it were not installed
import lossfuse, lossfuse.metrics       # the core needs none of the optional packages
try:
    importlib.import_module({adapter!r})
except ImportError as e:
    print(type(e).__name__, isinstance(e, ModuleNotFoundError))
    print(e)
else:
    print("imported")
"""


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_adapter_without_its_dependency_names_the_extra(adapter):
    dependency, extra = ADAPTERS[adapter]
    code = IMPORT_WITHOUT.format(dependency=dependency, adapter=f"lossfuse.{adapter}")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    kind, message = result.stdout.splitlines()
    assert kind == "MissingDependencyError True"
    assert f"lossfuse.{adapter} needs {dependency}" in message
    assert f"pip install 'lossfuse[{extra}]'" in message
