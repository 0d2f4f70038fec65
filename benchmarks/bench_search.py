"""Wall time of a GridSearchCV over skae with n_jobs=1 and n_jobs=2.

Each worker of joblib's loky backend runs torch with its share of the cores
(joblib sets ``OMP_NUM_THREADS`` in the workers), so a parallel search
should be faster than a sequential one, not slower from oversubscription.
With ``--dask`` the search also runs on a ``dask.distributed.LocalCluster``
of worker threads, where skae shares torch's threads among concurrent fits.

The 12 fits are timed without the final refit (which runs alone either
way). The first parallel search starts the workers; it is run once
untimed. The timed searches alternate between settings and the median of
``--repeats`` is printed.

Usage::

    python benchmarks/bench_search.py [--repeats 5] [--dask]
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import joblib
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
from skae import AutoencoderTransformer  # noqa: E402

GRID = {"n_components": [4, 8], "hidden_layer_sizes": [(32,), (64,)]}


def search(X, n_jobs):
    estimator = AutoencoderTransformer(max_iter=30, random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs, refit=False).fit(X)
        return time.perf_counter() - start


def single_threaded(run):
    # The sequential search with torch on one thread, as each parallel
    # worker has: separates the gain of running fits side by side from that
    # of avoiding torch's intra-op threading on tiny networks.
    def run_single():
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return run()
        finally:
            torch.set_num_threads(threads)

    return run_single


def dask_cluster():
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
    )
    return cluster, Client(cluster)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dask", action="store_true", help="also time a Dask search")
    args = parser.parse_args(argv)
    X = load_digits().data
    settings = {
        "n_jobs=1": lambda: search(X, None),
        "n_jobs=2 (loky)": lambda: search(X, 2),
    }
    settings["n_jobs=1, 1 thread"] = single_threaded(settings["n_jobs=1"])
    if args.dask:
        cluster, client = dask_cluster()

        def on_dask():
            with joblib.parallel_backend("dask"):
                return search(X, -1)

        settings["dask, 2 threads"] = on_dask
    for name, run in settings.items():
        if not name.startswith("n_jobs=1"):
            run()  # start the workers
    times = {name: [] for name in settings}
    for _ in range(args.repeats):
        for name, run in settings.items():
            times[name].append(run())
    threads = torch.get_num_threads()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# 12 fits on digits (no refit); {threads} torch threads; load {load}")
    for name, values in times.items():
        spread = ", ".join(f"{t:.1f}" for t in values)
        print(f"{name:<20} median {statistics.median(values):6.2f} s   ({spread})")
    if args.dask:
        client.close()
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
