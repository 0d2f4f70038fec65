"""Settings shared by the tests in tests/ and the doctests in skae/."""

import pytest
import torch


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
