"""Cheap checks that keep the documentation build green without running Sphinx.

The full build (``cd docs && python -m sphinx -W -b html . _build/html``)
takes minutes; these catch its most common failures in the test suite: a
public object missing from the API reference, a docstring without Examples,
RST that Sphinx reads as a broken link, and a gallery title it rejects.
"""

import importlib.util
import inspect
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import skae
import skae.dask
import skae.plotting

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "api.rst"
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def public_objects():
    modules = {"skae": skae, "skae.plotting": skae.plotting, "skae.dask": skae.dask}
    objects = {}
    for prefix, module in modules.items():
        for name in module.__all__:
            if not name.startswith("_"):
                objects[f"{prefix}.{name}"] = getattr(module, name)
    return objects


def autosummary_entries(text):
    """Fully qualified names listed in the autosummary directives of ``text``.

    Comment blocks are skipped, so names in MERGE notes do not count.
    """
    entries, module, in_directive = set(), None, False
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith(".. currentmodule::"):
            module = line.split("::", 1)[1].strip()
        if line.startswith(".. autosummary::"):
            in_directive = True
            continue
        if in_directive and line and not line[0].isspace():
            in_directive = False
        if in_directive and stripped and not stripped.startswith(":"):
            entries.add(f"{module}.{stripped}")
    return entries


OBJECTS = public_objects()


def test_api_reference_lists_every_public_object():
    listed = autosummary_entries(API.read_text())
    missing = sorted(set(OBJECTS) - listed)
    assert not missing, f"add to docs/api.rst: {missing}"


@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_public_docstring_has_numpydoc_sections(name):
    doc = inspect.getdoc(OBJECTS[name])
    assert doc, f"{name} has no docstring"
    for section in ("Parameters", "Examples"):
        assert re.search(rf"^{section}\n-+$", doc, re.M), f"{name}: no {section}"
    assert ">>>" in doc, f"{name}: its Examples section has no doctest"


def _docstrings():
    for name, obj in OBJECTS.items():
        yield name, inspect.getdoc(obj)
        if inspect.isclass(obj):
            for attr, member in inspect.getmembers(obj):
                if not attr.startswith("_") and callable(member):
                    defined_in = getattr(member, "__module__", "") or ""
                    if defined_in.startswith("skae"):
                        yield f"{name}.{attr}", inspect.getdoc(member)


def test_shapes_do_not_look_like_rst_links():
    # In "of shape (n_samples, n_features_in_)" RST reads ``n_features_in_``
    # as a link to a target that does not exist, failing the -W build; write
    # (`n_features_in_`,) as scikit-learn does.
    bad = []
    for name, doc in _docstrings():
        for shape in re.findall(r"shape \(([^)]*)\)", doc or ""):
            if re.search(r"(?<![`\w])\w+_(?=[,\s]|$)", shape):
                bad.append(f"{name}: ({shape})")
    assert not bad, bad


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_gallery_example_has_a_valid_title(path):
    # sphinx-gallery needs a module docstring opening with an RST title whose
    # '=' over- and underline are at least as long as the title.
    match = re.match(r'"""\n(=+)\n(.+)\n(=+)\n', path.read_text())
    assert match, f"{path.name}: docstring must open with a '=' title block"
    over, title, under = match.groups()
    assert len(over) >= len(title) and len(under) >= len(title), path.name


PYOD_PAGE = ROOT / "docs" / "migrating_from_pyod.rst"


def python_blocks(text):
    """The bodies of the ``.. code-block:: python`` directives of ``text``."""
    blocks = []
    for match in re.finditer(
        r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text, re.M
    ):
        lines = match.group(1).splitlines()
        blocks.append("\n".join(line[3:] for line in lines))
    return blocks


def test_migrating_from_pyod_snippets_run(tmp_path):
    # The page's snippets run in order in one script, as a reader would
    # paste them; the one that uses pyod only where pyod is installed. In a
    # process of their own: pyod seeds the global random generators.
    blocks = python_blocks(PYOD_PAGE.read_text())
    assert len(blocks) == 4
    if importlib.util.find_spec("pyod") is None:
        blocks = [b for b in blocks if "import AutoEncoder" not in b]
    script = tmp_path / "snippets.py"
    script.write_text("\n\n".join(blocks))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "training rows flagged" in result.stdout


def test_the_vae_width_rule_of_the_user_guide_picks_the_rank_of_its_table():
    # The user guide's rule for choosing a VAE's n_components, run on the
    # numbers of its own table (rank-10 data): it must pick 10, as PCA does.
    text = (ROOT / "docs" / "user_guide.rst").read_text(encoding="utf-8")
    start = text.index("    def smallest_within_one_se")
    code = textwrap.dedent(text[start : text.index("\n\n", start)])
    namespace = {"np": np}
    exec(code, namespace)
    cv_results = {
        "mean_test_score": np.array([-75.44, -75.23, -75.22, -75.08, -75.08, -75.01]),
        "std_test_score": np.array([0.52, 0.54, 0.59, 0.53, 0.57, 0.56]),
        "param_n_components": np.array([5, 10, 15, 20, 30, 45], dtype=object),
    }
    best = namespace["smallest_within_one_se"](cv_results)
    assert cv_results["param_n_components"][best] == 10
