"""Threads: one fitted estimator serving several threads, and torch's thread count.

Inference reads the fitted state and writes nothing, so concurrent calls
must give exactly what the same calls give one after another; and fits in
parallel threads (each on its own estimator) must not disturb each other,
since skae keeps no global random state. Each fit or inference call runs
torch on the intra-op threads ``n_threads`` asks for and gives the caller's
setting back when it returns.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from _reliability import (
    assert_outputs_equal,
    blobs,
    call,
    class_id,
    data_methods,
    make_estimator,
    public_estimator_classes,
)

from skae import AutoencoderTransformer, _base, _data, _inference, _threads

ESTIMATORS = public_estimator_classes()
N_THREADS = 4
# Distinct inputs, so a call that picked up another thread's batch shows.
INPUTS = [blobs(n_samples=30 + 7 * i, seed=i) for i in range(N_THREADS + 2)]


def _calls(estimator):
    """``(name, thunk)`` for every inference method on every input."""
    calls = []
    for i, X in enumerate(INPUTS):
        for method in data_methods(estimator):
            calls.append(
                (f"{method}[{i}]", lambda m=method, X=X: getattr(estimator, m)(X))
            )
        if hasattr(estimator, "inverse_transform"):
            codes = estimator.transform(X)
            calls.append(
                (
                    f"inverse_transform[{i}]",
                    lambda c=codes: estimator.inverse_transform(c),
                )
            )
    return calls


def _run_sequentially(thunks):
    # In a worker thread too, like the concurrent calls: torch's intra-op
    # thread count is a per-thread setting, and another count may change
    # the last bit of a matrix product without any thread-safety issue.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: {name: thunk() for name, thunk in thunks}).result()


def _run_concurrently(thunks, rounds=2):
    # Every thunk several times, interleaved across the pool's threads.
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        futures = [
            (name, pool.submit(thunk)) for _ in range(rounds) for name, thunk in thunks
        ]
        return [(name, future.result()) for name, future in futures]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_concurrent_inference_matches_sequential(cls):
    estimator = make_estimator(cls, hidden_layer_sizes=(16, 8), dropout=0.1)
    call(estimator, "fit", INPUTS[0])
    thunks = _calls(estimator)
    expected = _run_sequentially(thunks)
    state = dict(vars(estimator))
    for name, result in _run_concurrently(thunks):
        np.testing.assert_array_equal(
            np.asarray(result), np.asarray(expected[name]), err_msg=name
        )
    # Inference changed nothing (check_dict_unchanged, under threads).
    assert vars(estimator).keys() == state.keys()
    assert all(vars(estimator)[k] is v for k, v in state.items())


# Set for the whole test: warnings.catch_warnings is not thread-safe, so the
# threads themselves must not use it.
@pytest.mark.filterwarnings("ignore:Maximum iterations")
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_concurrent_fits_match_sequential_fits(cls):
    def fit_and_encode(X):
        estimator = make_estimator(cls, dropout=0.1, hidden_layer_sizes=(6,))
        estimator.fit(X)
        return {m: getattr(estimator, m)(X) for m in data_methods(estimator)}

    thunks = [
        (i, lambda X=X: fit_and_encode(X)) for i, X in enumerate(INPUTS[:N_THREADS])
    ]
    expected = _run_sequentially(thunks)
    for i, got in _run_concurrently(thunks, rounds=1):
        assert_outputs_equal(got, expected[i])


# ----------------------------------------------------------------------
# n_threads: how many intra-op threads a call uses, and restoring them


def _threads_seen(monkeypatch, module, name):
    """Record torch's thread count each time ``module.name`` is called."""
    seen, real = [], getattr(module, name)

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_auto_threads_uses_one_thread_for_small_steps(two_torch_threads):
    assert _threads.auto_threads(_threads.SINGLE_THREAD_WORK - 1) == 1
    big = _threads.auto_threads(_threads.SINGLE_THREAD_WORK)
    assert big == min(2, _threads.usable_cores())


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_small_fits_and_inference_run_on_one_thread(
    cls, monkeypatch, two_torch_threads
):
    fits = _threads_seen(monkeypatch, _base, "fit_loop")
    inference = _threads_seen(monkeypatch, _inference, "batched_apply")
    estimator = make_estimator(cls)
    call(estimator, "fit", INPUTS[0])
    call(estimator, "score_samples", INPUTS[0])
    assert fits and set(fits) == {1} and estimator.n_threads_ == 1
    assert inference and set(inference) == {1}
    # The caller's own setting is back once each call returns.
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_large_steps_use_the_callers_threads(cls, monkeypatch, two_torch_threads):
    monkeypatch.setattr(_threads, "SINGLE_THREAD_WORK", 0)
    fits = _threads_seen(monkeypatch, _base, "fit_loop")
    estimator = make_estimator(cls)
    call(estimator, "fit", INPUTS[0])
    expected = min(2, _threads.usable_cores())
    assert set(fits) == {expected} and estimator.n_threads_ == expected


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_an_int_is_used_as_given_and_restored(cls, monkeypatch):
    # The suite runs torch on one thread; ask for three.
    fits = _threads_seen(monkeypatch, _base, "fit_loop")
    inference = _threads_seen(monkeypatch, _inference, "batched_apply")
    estimator = make_estimator(cls, n_threads=3)
    call(estimator, "fit", INPUTS[0])
    call(estimator, "score_samples", INPUTS[0])
    assert set(fits) == {3} and set(inference) == {3}
    assert estimator.n_threads_ == 3
    assert torch.get_num_threads() == 1


def test_threads_are_restored_when_a_fit_fails(monkeypatch, two_torch_threads):
    def failing_loop(run, X):
        assert torch.get_num_threads() == 1
        raise KeyError("inside the loop")

    monkeypatch.setattr(_base, "fit_loop", failing_loop)
    with pytest.raises(KeyError, match="inside the loop"):
        call(make_estimator(ESTIMATORS[0], n_threads=1), "fit", INPUTS[0])
    assert torch.get_num_threads() == 2


def test_numpy_workers_follow_n_threads():
    assert _threads.numpy_workers(3) == 3
    with _threads.fixed_threads(1):
        assert _threads.numpy_workers("auto") == 1
    assert 1 <= _threads.numpy_workers("auto") <= _threads.usable_cores()


def test_one_thread_fit_reads_its_column_statistics_without_a_pool(digits, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a thread pool was started")

    monkeypatch.setattr(_data, "ThreadPoolExecutor", no_pool)
    monkeypatch.setattr(_data, "_STATS_CHUNK_ELEMENTS", 64 * 100)
    AutoencoderTransformer(2, max_iter=1, n_threads=1, random_state=0).fit(digits[0])
    with pytest.raises(AssertionError, match="thread pool"):
        AutoencoderTransformer(2, max_iter=1, n_threads=2, random_state=0).fit(
            digits[0]
        )
