"""pytest configuration shared by the tests in tests/ and the doctests in skae/."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

import pytest
import torch


def _installed(*modules):
    try:
        for module in modules:
            __import__(module)
    except ImportError:
        return False
    return True


def _has_matplotlib():
    return _installed("matplotlib")


# Doctests of optional features, by name prefix, and what they import.
OPTIONAL_DOCTESTS = {
    "skae.plotting": ("matplotlib",),
    "skae._onnx": ("onnx", "onnxscript", "onnxruntime"),
    "skae.dask": ("dask.array",),
}


def pytest_configure(config):
    # Plots in tests and doctests draw off-screen: they need no display and
    # open no window, whatever backend the machine would pick by default.
    if _has_matplotlib():
        import matplotlib

        matplotlib.use("Agg")


def pytest_collection_modifyitems(config, items):
    # Optional dependencies: without them, their doctests are skipped (the
    # test modules skip themselves with importorskip).
    for prefix, modules in OPTIONAL_DOCTESTS.items():
        if _installed(*modules):
            continue
        skip = pytest.mark.skip(reason=f"{', '.join(modules)} not installed")
        for item in items:
            if isinstance(item, pytest.DoctestItem) and item.name.startswith(prefix):
                item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Run the suite's tiny networks on one intra-op thread, then restore.

    Test networks are a few dozen units wide: intra-op parallelism gains
    nothing on them, and torch's thread pool makes each step several times
    slower (about 20x on a busy two-core machine).
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item):
    # Close the figures a test or doctest left open, so they do not pile up.
    # trylast: after fixture teardown (a test may hide pyplot with monkeypatch).
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
