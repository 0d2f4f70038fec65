"""Repository habits the suite enforces: lint, one version, documented parameters."""

import ast
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import skae
from skae import _docstrings

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = [
    getattr(skae, name)
    for name in skae.__all__
    if inspect.isclass(getattr(skae, name))
    and issubclass(getattr(skae, name), BaseEstimator)
]


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_is_clean(command):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[lint]')")
    result = subprocess.run(
        [ruff, *command, str(ROOT)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_version_is_written_in_one_place():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    written = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "skae").rglob("*.py")
        if re.search(r"^__version__ = ", path.read_text(), re.M)
    ]
    assert written == ["skae/_version.py"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{skae.__version__}]" in changelog


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_documented_once_with_its_default(cls):
    doc = inspect.getdoc(cls)
    for name, parameter in inspect.signature(cls).parameters.items():
        entries = re.findall(rf"^{name} : .*$", doc, re.M)
        assert len(entries) == 1, (name, entries)
        # scikit-learn writes a NaN default as np.nan.
        default = "np.nan" if parameter.default is np.nan else repr(parameter.default)
        assert entries[0].endswith(f"default={default}"), entries[0]


def test_unknown_placeholders_are_an_error_at_definition():
    with pytest.raises(ValueError, match="unknown placeholder {no_such_section}"):

        @_docstrings.fill_doc
        class _Broken(BaseEstimator):
            """Broken.

            Parameters
            ----------
            {no_such_section}
            """


def test_placeholders_need_the_parameters_in_init():
    with pytest.raises(ValueError, match=r"documents \['n_components'\]"):

        @_docstrings.fill_doc
        class _Missing(BaseEstimator):
            """Missing.

            {n_components}
            """

            def __init__(self, other=1):
                self.other = other


def test_per_class_descriptions_replace_the_shared_ones():
    @_docstrings.fill_doc(max_iter="Rounds of training.")
    class _Custom(BaseEstimator):
        """Custom.

        {max_iter}
        """

        def __init__(self, max_iter=7):
            self.max_iter = max_iter

    doc = inspect.cleandoc(_Custom.__doc__)
    assert "max_iter : int, default=7\n    Rounds of training." in doc


def test_per_class_descriptions_may_replace_the_type_too():
    @_docstrings.fill_doc(n_components=("int or 'auto'", "A width, or 'auto'."))
    class _Wider(BaseEstimator):
        """Wider.

        {n_components}
        """

        def __init__(self, n_components="auto"):
            self.n_components = n_components

    doc = inspect.cleandoc(_Wider.__doc__)
    entry = "n_components : int or 'auto', default='auto'\n    A width, or 'auto'."
    assert entry in doc


def test_per_class_descriptions_replace_shared_fitted_attributes():
    @_docstrings.fill_doc(loss_curve_="Nats per row.")
    class _Fitted(BaseEstimator):
        """Fitted.

        Attributes
        ----------
        {fitted_attributes}
        """

    doc = inspect.cleandoc(_Fitted.__doc__)
    assert "loss_curve_ : list of float\n    Nats per row." in doc
    # The others keep the shared text, in the shared order.
    names = re.findall(r"^(\w+_) : ", doc, re.M)
    assert names == list(_docstrings.ATTRIBUTES)


def _imports_within_skae(path):
    """The skae modules that ``path`` (a module of skae/) imports."""
    tree = ast.parse(path.read_text())
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            if node.module is None:  # from . import module
                yield from (".".join((*base, a.name)) for a in node.names)
            else:
                yield ".".join((*base, node.module))
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("skae"))


def test_the_import_graph_of_skae_has_no_cycle():
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
        for p in (ROOT / "skae").rglob("*.py")
    }
    graph = {
        name: {t for t in _imports_within_skae(path) if t in modules and t != name}
        for name, path in modules.items()
    }
    done, on_path = set(), []

    def visit(name):
        if name in on_path:
            raise AssertionError(" -> ".join([*on_path, name]))
        if name not in done:
            on_path.append(name)
            for target in graph[name]:
                visit(target)
            on_path.pop()
            done.add(name)

    for name in graph:
        visit(name)
    assert len(done) == len(modules) > 20


def test_modules_and_classes_stay_readable():
    # One concern a module: no class over 500 lines (docstrings included),
    # and the outlier detector's module, which grew three, stays short.
    too_long = []
    for path in (ROOT / "skae").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            size = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, ast.ClassDef) and size > 500:
                too_long.append(f"{path.name}:{node.name} ({size} lines)")
    assert not too_long
    assert len((ROOT / "skae" / "_outlier.py").read_text().splitlines()) <= 600
