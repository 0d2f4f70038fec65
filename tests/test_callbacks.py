"""scikit-learn's callbacks: task trees, stop requests, ProgressBar in a search."""

import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris

from skae import (
    AdversarialAutoencoder,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)

callback = pytest.importorskip("sklearn.callback", reason="scikit-learn < 1.9")

X_IRIS = load_iris().data


class Recorder:
    """A callback that records every task's end as its path of task names,
    and asks to stop where ``stop_at(context, fitted_estimator)`` says."""

    def __init__(self, stop_at=None):
        self.ends, self.begins, self.fitted = [], 0, []
        self.setups = self.teardowns = 0
        self.stop_at = stop_at

    def setup(self, estimator, context):
        self.setups += 1

    def teardown(self, estimator, context):
        self.teardowns += 1

    def on_fit_task_begin(self, estimator, context):
        self.begins += 1

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self.ends.append(_path(context))
        self.fitted.append(fitted_estimator)
        return bool(self.stop_at and self.stop_at(context, fitted_estimator))

    def epochs(self):
        return [path for path in self.ends if path.endswith("epoch")]


def _path(context):
    names = []
    while context is not None:
        names.append(context.task_name)
        context = context.parent
    return "/".join(reversed(names))


def _quietly(method, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return method(*args, **kwargs)


def _stop_at_epoch(n):
    def stop_at(context, fitted):
        return context.task_name == "epoch" and fitted.n_iter_ >= n

    return stop_at


ESTIMATORS = [
    AutoencoderTransformer(2, max_iter=6, random_state=0),
    DenoisingAutoencoder(2, max_iter=6, random_state=0),
    AutoencoderOutlierDetector(n_components=2, n_rounds=1, max_iter=6, random_state=0),
    VariationalAutoencoder(2, max_iter=6, random_state=0),
    AdversarialAutoencoder(2, max_iter=6, random_state=0),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_one_task_per_epoch_under_the_root(estimator):
    recorder = Recorder()
    _quietly(estimator.set_callbacks(recorder).fit, X_IRIS)
    assert recorder.epochs() == ["fit/epoch"] * estimator.n_iter_
    assert recorder.ends[-1] == "fit"
    assert recorder.begins == len(recorder.ends)
    assert (recorder.setups, recorder.teardowns) == (1, 1)
    # Nothing of the fit's tree stays on the estimator.
    assert not hasattr(estimator, "_skae_task")
    assert not hasattr(estimator, "_callback_fit_ctx")


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_a_stop_request_ends_training_at_that_epoch(estimator):
    estimator = estimator.set_params(max_iter=20)
    estimator.set_callbacks(Recorder(stop_at=_stop_at_epoch(3)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # A stop asked for is no failure to converge.
        warnings.filterwarnings("error", message="Maximum iterations")
        estimator.fit(X_IRIS)
    assert estimator.n_iter_ == 3
    assert len(estimator.loss_curve_) == 3


def test_the_stop_is_reported_and_early_stopping_restores_the_best(capsys):
    estimator = AutoencoderTransformer(
        2, max_iter=20, early_stopping=True, verbose=1, random_state=0
    )
    estimator.set_callbacks(Recorder(stop_at=_stop_at_epoch(3)))
    estimator.fit(X_IRIS)
    out = capsys.readouterr().out
    assert "A callback asked training to stop after epoch 3." in out
    best = int(np.argmin(estimator.validation_loss_curve_)) + 1
    assert f"Restored the weights of epoch {best}." in out
    assert estimator.best_loss_ == min(estimator.validation_loss_curve_)


def test_epoch_ends_give_the_estimator_as_it_stands():
    recorder = Recorder()
    estimator = AutoencoderTransformer(2, max_iter=4, random_state=0)
    _quietly(estimator.set_callbacks(recorder).fit, X_IRIS)
    epochs = recorder.fitted[:-1]
    assert [f.n_iter_ for f in epochs] == [1, 2, 3, 4]
    assert [f.loss_curve_ for f in epochs] == [
        estimator.loss_curve_[:k] for k in (1, 2, 3, 4)
    ]
    # Usable as it stands: the last epoch's copy is the fitted estimator.
    np.testing.assert_array_equal(
        epochs[-1].transform(X_IRIS), estimator.transform(X_IRIS)
    )
    # The root's end gives the fitted estimator, all attributes set.
    assert recorder.fitted[-1].explained_variance_ratio_ is not None


def test_a_copy_from_an_epoch_fits_later_with_a_tree_of_its_own():
    recorder = Recorder()
    estimator = AutoencoderTransformer(2, max_iter=2, random_state=0)
    _quietly(estimator.set_callbacks(recorder).fit, X_IRIS)
    copy = recorder.fitted[0]
    recorder.ends.clear()
    _quietly(copy.fit, X_IRIS)
    assert recorder.ends == ["fit/epoch", "fit/epoch", "fit"]


def test_callbacks_that_score_do_not_change_the_fit():
    def score_every_epoch(context, fitted):
        if fitted is not None:
            fitted.score(X_IRIS)
        return False

    plain = _quietly(AutoencoderTransformer(2, max_iter=5, random_state=0).fit, X_IRIS)
    watched = AutoencoderTransformer(2, max_iter=5, random_state=0)
    watched.set_callbacks(Recorder(stop_at=score_every_epoch))
    _quietly(watched.fit, X_IRIS)
    assert watched.loss_curve_ == plain.loss_curve_
    np.testing.assert_array_equal(watched.transform(X_IRIS), plain.transform(X_IRIS))


def test_fit_transform_gives_the_callbacks_its_y():
    # Pipeline fits a transformer by fit_transform(X, y): a scorer needs y.
    seen = []

    class SeesY(Recorder):
        def on_fit_task_end(self, estimator, context, *, y=None):
            seen.append(y)

    y = np.arange(len(X_IRIS))
    estimator = AutoencoderTransformer(2, max_iter=2, random_state=0)
    _quietly(estimator.set_callbacks(SeesY()).fit_transform, X_IRIS, y)
    assert len(seen) == 3 and all(s is y for s in seen)


def test_partial_fit_is_a_root_of_one_epoch():
    recorder = Recorder()
    estimator = AutoencoderTransformer(2, random_state=0).set_callbacks(recorder)
    estimator.partial_fit(X_IRIS)
    estimator.partial_fit(X_IRIS)
    assert recorder.ends == ["partial_fit/epoch", "partial_fit"] * 2
    assert (recorder.setups, recorder.teardowns) == (2, 2)


def test_the_detectors_members_and_rounds_are_the_levels_above_epochs():
    recorder = Recorder()
    detector = AutoencoderOutlierDetector(
        n_components=2, n_rounds=2, n_estimators=2, max_iter=2, random_state=0
    )
    _quietly(detector.set_callbacks(recorder).fit, X_IRIS)
    member = ["fit/member/round/epoch"] * 2 + ["fit/member/round"]
    assert recorder.ends == (member * 2 + ["fit/member"]) * 2 + ["fit"]
    # The members report through the detector and keep no callbacks.
    assert all(not hasattr(m, "_skl_callbacks") for m in detector.members_)
    pickle.loads(pickle.dumps(detector.members_))

    recorder = Recorder()
    _quietly(detector.set_callbacks(recorder).partial_fit, X_IRIS)
    assert recorder.ends == ["partial_fit/member/epoch", "partial_fit/member"] * 2 + [
        "partial_fit"
    ]


@pytest.mark.parametrize("level", ["member", "round"])
def test_a_stop_at_the_detectors_levels_ends_that_level(level):
    def first(context, fitted):
        return context.task_name == level

    recorder = Recorder(stop_at=first)
    detector = AutoencoderOutlierDetector(
        n_components=2, n_rounds=3, n_estimators=3, max_iter=2, random_state=0
    )
    _quietly(detector.set_callbacks(recorder).fit, X_IRIS)
    if level == "member":
        assert detector.members_ == []
        assert recorder.ends.count("fit/member") == 1
    else:
        # Each network stops after its first round.
        assert recorder.ends.count("fit/member/round") == 3
    detector.predict(X_IRIS)


def test_the_imputers_model_reports_its_epochs_under_the_imputer():
    X = X_IRIS.copy()
    X[::5, 1] = np.nan
    recorder = Recorder()
    imputer = AutoencoderImputer(max_iter=3, random_state=0).set_callbacks(recorder)
    _quietly(imputer.fit, X)
    assert recorder.ends == ["fit/epoch"] * imputer.n_iter_ + ["fit"]
    # An epoch's imputer would need its model: documented as absent.
    assert recorder.fitted[:-1] == [None] * imputer.n_iter_
    assert not hasattr(imputer.model_, "_skae_task")


def test_scoring_monitor_records_a_score_per_epoch():
    def reconstruction(estimator, X, y=None):
        return estimator.score(X)

    monitor = callback.ScoringMonitor(scoring={"reconstruction": reconstruction})
    estimator = AutoencoderTransformer(2, max_iter=4, random_state=0)
    # scikit-learn's monitor scores only when fit is given a y.
    _quietly(estimator.set_callbacks(monitor).fit, X_IRIS, np.zeros(len(X_IRIS)))
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == 4
    scores = [r["reconstruction"] for r in rows]
    assert scores[-1] == pytest.approx(estimator.score(X_IRIS))


def test_progress_bar_in_a_parallel_search_over_a_pipeline(capsys, monkeypatch):
    pytest.importorskip("rich")
    monkeypatch.setenv("COLUMNS", "200")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        AutoencoderTransformer(2, max_iter=3, random_state=0),
        LogisticRegression(),
    )
    search = GridSearchCV(
        pipe, {"autoencodertransformer__n_components": [2, 3]}, cv=2, n_jobs=2
    )
    search.set_callbacks(callback.ProgressBar(max_propagation_depth=None))
    _quietly(search.fit, X, y)
    assert search.best_estimator_[1].n_iter_ == 3
    # A bar of epochs for each of the 4 fits of the search and the refit,
    # drawn from the workers as from the main process.
    out = capsys.readouterr().out
    assert out.count("| AutoencoderTransformer - fit") == 5


def test_no_callbacks_set_makes_no_tree():
    estimator = AutoencoderTransformer(2, max_iter=2, random_state=0)
    estimator.set_callbacks(Recorder()).set_callbacks()
    _quietly(estimator.fit, X_IRIS)
    assert not hasattr(estimator, "_skl_callbacks")
    assert not hasattr(estimator, "_callback_fit_ctx")


def test_without_sklearn_callbacks_skae_imports_and_fits():
    # scikit-learn < 1.9 has no CallbackSupportMixin: skae must work as before.
    code = textwrap.dedent(
        """
        import sys, warnings
        import numpy as np
        import skae
        import sklearn.callback
        # Import skae anew against a scikit-learn without the mixin.
        for name in [m for m in sys.modules if m.split(".")[0] == "skae"]:
            del sys.modules[name]
        del sklearn.callback.CallbackSupportMixin
        import skae
        estimator = skae.AutoencoderTransformer(2, max_iter=2, random_state=0)
        assert not hasattr(estimator, "set_callbacks")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(np.random.default_rng(0).normal(size=(20, 4)))
        print(estimator.n_iter_)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "2"


def test_the_user_guides_held_out_stopper_stops_on_a_plateau():
    # docs/training.rst's example, as written there.
    class StopOnHeldOut:
        def __init__(self, X_val):
            self.X_val, self.best = X_val, None

        def setup(self, estimator, context):
            self.best = None

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name != "epoch":
                return False
            score = fitted_estimator.score(self.X_val)
            improved = self.best is None or score > self.best + 0.01 * abs(self.best)
            self.best = score if improved else self.best
            return not improved

    X_val = X_IRIS[::3]
    ae = AutoencoderTransformer(2, max_iter=500, random_state=0)
    _quietly(ae.set_callbacks(StopOnHeldOut(X_val)).fit, X_IRIS)
    assert 1 < ae.n_iter_ < 500
    scores = [-np.mean((ae.inverse_transform(ae.transform(X_val)) - X_val) ** 2)]
    assert np.isfinite(scores).all()
