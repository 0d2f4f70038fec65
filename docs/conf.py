"""Sphinx configuration of the skae documentation.

Build from this folder with ``python -m sphinx -W -b html . _build/html``
(``make html``). The build needs no network: intersphinx is off, and the
example gallery runs on data that ships with scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import re
import sys

# Document the checkout this file belongs to, installed or not.
sys.path.insert(0, os.path.abspath(".."))

import skae  # noqa: E402

project = "skae"
author = "The skae developers"
copyright = "The skae developers"
version = release = skae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "README.md"]
root_doc = "index"
default_role = "literal"

# -- API reference -----------------------------------------------------------

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
# numpydoc writes the class member tables; autosummary's would duplicate them.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Cross-references in "See Also" and parameter types resolve where they can
# and stay plain text where they cannot (objects of other projects, since
# intersphinx is off).
numpydoc_xref_param_type = False

# -- Cross-project links -------------------------------------------------------
# Left empty so that the build works offline; to link to the Python, NumPy,
# scikit-learn and PyTorch documentation when online, build with
# SKAE_DOCS_INTERSPHINX=1.
intersphinx_mapping = {}
if os.environ.get("SKAE_DOCS_INTERSPHINX"):
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "torch": ("https://docs.pytorch.org/docs/stable", None),
    }

# Inherited scikit-learn methods (get_params, set_output, ...) are documented
# on every estimator page, and their docstrings point at labels of
# scikit-learn's own documentation. Offline those labels cannot resolve, so
# turn such references into plain text in docstrings not written by skae.
_REF = re.compile(r":ref:`([^`<]+?)\s*(?:<[^`>]+>)?`")


def _unlink_foreign_refs(app, what, name, obj, options, lines):
    module = getattr(obj, "__module__", None) or ""
    if intersphinx_mapping or module.split(".")[0] == "skae":
        return
    lines[:] = [_REF.sub(r"\1", line) for line in lines]


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_foreign_refs)


# -- Example gallery -----------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Only plot_*.py are executed; demo.py is the README's command-line job
    # and is not part of the gallery.
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|demo)\.py$",
    "backreferences_dir": "generated",
    "doc_module": ("skae",),
    "reference_url": {"skae": None},
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "show_memory": False,
    "within_subsection_order": "FileNameSortKey",
}

# -- HTML ------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_static_path = []
html_theme_options = {"show_prev_next": False}
html_show_sourcelink = False
