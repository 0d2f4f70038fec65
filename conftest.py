"""pytest configuration shared by the tests in tests/ and the doctests in skae/."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import sys

import pytest
import torch


def _has_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def pytest_configure(config):
    # Plots in tests and doctests draw off-screen: they need no display and
    # open no window, whatever backend the machine would pick by default.
    if _has_matplotlib():
        import matplotlib

        matplotlib.use("Agg")


def pytest_collection_modifyitems(config, items):
    # matplotlib is optional: without it, the plotting doctests are skipped
    # (tests/test_plotting.py skips itself with importorskip).
    if _has_matplotlib():
        return
    skip = pytest.mark.skip(reason="matplotlib is not installed")
    for item in items:
        if isinstance(item, pytest.DoctestItem) and item.name.startswith(
            "skae.plotting"
        ):
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
