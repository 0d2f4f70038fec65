"""AdversarialAutoencoder: codes shaped like the prior, samples, labelled clusters."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skae import AdversarialAutoencoder, AutoencoderTransformer, _aae
from skae._adversarial import AdversarialNetwork

FAST = dict(hidden_layer_sizes=(32,), max_iter=100, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def normal_fit(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return AdversarialAutoencoder(4, **FAST).fit(X)


def _square(n_samples, random_state):
    """A module-level prior (clonable and picklable): the box [-3, 3]^2."""
    return random_state.uniform(-3.0, 3.0, size=(n_samples, 2))


def _far(n_samples, random_state):
    """Draws centred far from where an untrained code lies."""
    return 50.0 + random_state.standard_normal((n_samples, 2))


def test_codes_fill_a_normal_prior(normal_fit, digits):
    codes = normal_fit.transform(digits[0])
    np.testing.assert_allclose(codes.mean(axis=0), 0.0, atol=0.25)
    np.testing.assert_allclose(codes.std(axis=0), 1.0, atol=0.25)
    ks = [stats.kstest(codes[:, j], "norm").statistic for j in range(4)]
    assert max(ks) < 0.15, ks
    # A plain autoencoder's codes have whatever shape training gave them.
    plain = AutoencoderTransformer(4, **{**FAST, "max_iter": 5}).fit(digits[0])
    plain_ks = [stats.kstest(c, "norm").statistic for c in plain.transform(digits[0]).T]
    assert min(plain_ks) > max(ks)
    assert 0.3 < normal_fit.discriminator_accuracy_ < 0.7


def test_codes_fill_the_box_and_a_callable_prior(digits):
    X, _ = digits
    box = AdversarialAutoencoder(2, prior="uniform", **FAST).fit(X)
    codes = box.transform(X)
    assert np.quantile(np.abs(codes), 0.99) < 1.2
    np.testing.assert_allclose(codes.std(axis=0), 1 / np.sqrt(3), atol=0.12)
    square = AdversarialAutoencoder(2, prior=_square, **FAST).fit(X)
    codes = square.transform(X)
    assert 2.0 < np.quantile(np.abs(codes), 0.99) < 3.6


def test_samples_look_like_the_data(normal_fit, digits):
    X, y = digits
    classifier = LogisticRegression(max_iter=2000).fit(X, y)
    samples = normal_fit.sample(500, random_state=0)
    assert samples.shape == (500, 64)
    np.testing.assert_array_equal(samples, normal_fit.sample(500, random_state=0))
    assert not np.array_equal(samples, normal_fit.sample(500, random_state=1))
    proba = classifier.predict_proba(samples)
    # Drawn from every part of the prior, every digit comes out, and most
    # samples look like one.
    assert len(np.unique(proba.argmax(axis=1))) == 10
    assert proba.max(axis=1).mean() > 0.5


def test_labels_draw_the_codes_to_their_class_s_component(digits):
    X, y = digits
    rng = np.random.default_rng(0)
    y_partial = y.copy()
    hidden = rng.random(len(y)) > 0.2
    y_partial[hidden] = -1
    aae = AdversarialAutoencoder(8, prior="mixture", **{**FAST, "max_iter": 200})
    with warnings.catch_warnings():
        warnings.filterwarnings("error", "The labels did not shape")
        aae.fit(X, y_partial)
    assert aae.component_means_.shape == (10, 8)
    np.testing.assert_array_equal(aae.classes_, np.arange(10))
    codes = aae.transform(X)
    nearest = ((codes[:, None] - aae.component_means_[None]) ** 2).sum(-1).argmin(1)
    predicted = aae.classes_[nearest]
    assert (predicted[~hidden] == y[~hidden]).mean() > 0.9
    # Fewer than 2,000 rows: every labelled row was checked.
    agreement = (predicted[~hidden] == y[~hidden]).mean()
    assert aae.label_agreement_ == pytest.approx(agreement)
    # Unlabelled rows land near their class's component too.
    assert (predicted[hidden] == y[hidden]).mean() > 0.8


def test_labels_that_did_not_shape_the_codes_are_warned_about(digits):
    X, y = digits
    # One epoch at a crawl: the codes lie wherever the network starts them.
    aae = AdversarialAutoencoder(
        2, prior="mixture", **{**FAST, "max_iter": 1, "learning_rate_init": 1e-7}
    )
    with pytest.warns(ConvergenceWarning, match=r"only \d+% of the labelled rows"):
        aae.fit(X, y)
    assert aae.label_agreement_ < 0.5
    # A later fit without labels has no agreement to report.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        aae.fit(X)
    assert not hasattr(aae, "label_agreement_")


def test_string_labels_map_to_components_in_order(digits):
    X, y = digits
    names = np.array(["zero", "one", "two"], dtype=object)
    labels = np.where(y < 3, names[np.minimum(y, 2)], -1)
    aae = AdversarialAutoencoder(2, prior="mixture", n_prior_components=3, **FAST)
    aae.set_params(max_iter=2).fit(X, labels)
    assert aae.classes_.tolist() == ["one", "two", "zero"]


def test_partial_fit_keeps_each_class_s_component(digits):
    X, y = digits
    aae = AdversarialAutoencoder(2, prior="mixture", n_prior_components=4, **FAST)
    first = np.where(y < 2, y, -1)
    aae.partial_fit(X, first)
    assert aae.classes_.tolist() == [0, 1]
    later = np.where((y >= 1) & (y < 4), y, -1)
    aae.partial_fit(X, later)
    assert aae.classes_.tolist() == [0, 1, 2, 3]
    too_many = np.where(y < 5, y, -1)
    with pytest.raises(ValueError, match="y has 5 classes.*n_prior_components=4"):
        aae.partial_fit(X, too_many)


@pytest.mark.parametrize(
    "labels, message",
    [
        (lambda y: y + 0.5, "class labels"),
        (lambda y: y, "y has 10 classes, but the mixture prior has"),
    ],
)
def test_bad_labels_are_refused(digits, labels, message):
    X, y = digits
    aae = AdversarialAutoencoder(2, prior="mixture", n_prior_components=5, **FAST)
    with pytest.raises(ValueError, match=message):
        aae.fit(X, labels(y))


def test_labels_are_ignored_by_other_priors(digits):
    X, y = digits
    with_y = AdversarialAutoencoder(2, **{**FAST, "max_iter": 3}).fit(X, y + 0.5)
    without = AdversarialAutoencoder(2, **{**FAST, "max_iter": 3}).fit(X)
    np.testing.assert_array_equal(with_y.transform(X), without.transform(X))
    assert not hasattr(with_y, "classes_")


def test_too_many_components_for_the_code_are_refused(digits):
    aae = AdversarialAutoencoder(3, prior="mixture", n_prior_components=19, **FAST)
    with pytest.raises(ValueError, match="at most 18"):
        aae.fit(digits[0])


def test_adversarial_losses_are_reported_beside_the_reconstruction(normal_fit):
    components = normal_fit.loss_components_
    assert list(components) == ["reconstruction", "discriminator", "generator"]
    assert len(components["discriminator"]) == normal_fit.n_iter_ == 100
    # The loss curve is the reconstruction phase's alone.
    assert normal_fit.loss_curve_ == components["reconstruction"]
    # Near the game's equilibrium: 2 log 2 and log 2.
    assert abs(components["discriminator"][-1] - 2 * np.log(2)) < 0.3
    assert abs(components["generator"][-1] - np.log(2)) < 0.3


def test_max_iter_is_a_budget_and_the_codes_are_checked(digits):
    X, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AdversarialAutoencoder(2, **{**FAST, "max_iter": 3}).fit(X)
    # A discriminator that learns while the encoder is not moved against it
    # wins outright against a prior far from the codes: the fit says so.
    untrained = AdversarialAutoencoder(2, prior=_far, adversarial_weight=0.0, **FAST)
    with pytest.warns(ConvergenceWarning, match="tells the codes from prior draws"):
        untrained.fit(X)
    assert untrained.discriminator_accuracy_ > 0.9


def test_codes_that_collapse_are_reported(digits):
    X, _ = digits

    def huge(n_samples, random_state):
        return 1e4 * random_state.standard_normal((n_samples, 2))

    with pytest.warns(ConvergenceWarning, match=r"collapsed along dimension\(s\)"):
        AdversarialAutoencoder(2, prior=huge, **{**FAST, "max_iter": 3}).fit(X)


def test_discriminator_is_published_in_eval_mode_and_saved(normal_fit, digits):
    critic = normal_fit.discriminator_
    assert not critic.training
    loaded = pickle.loads(pickle.dumps(normal_fit))
    for a, b in zip(
        critic.parameters(), loaded.discriminator_.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    assert set(loaded._network.optimizers) == {"network", "discriminator", "encoder"}
    np.testing.assert_array_equal(
        loaded.transform(digits[0]), normal_fit.transform(digits[0])
    )


def test_adversarial_weight_auto_is_stronger_for_a_mixture():
    mixture = AdversarialAutoencoder(prior="mixture")
    assert mixture._adversarial_weight() == 3.0
    assert AdversarialAutoencoder()._adversarial_weight() == 1.0
    assert AdversarialAutoencoder(adversarial_weight=0.5)._adversarial_weight() == 0.5


def test_global_random_state_is_untouched(digits):
    np.random.seed(0)
    torch.manual_seed(0)
    before = np.random.get_state()[1].copy(), torch.get_rng_state().clone()
    aae = AdversarialAutoencoder(2, prior=_square, **{**FAST, "max_iter": 2}).fit(
        digits[0]
    )
    aae.sample(5)
    assert np.array_equal(np.random.get_state()[1], before[0])
    assert torch.equal(torch.get_rng_state(), before[1])


def test_labelled_rows_are_replayed_in_adversarial_phases_of_their_own(
    digits, monkeypatch
):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) < 30, y, -1)
    seen = []
    discriminate = AdversarialNetwork.discriminate

    def spy(self, codes, slots=None):
        if self.training:
            seen.append(slots.argmax(1))
        return discriminate(self, codes, slots)

    monkeypatch.setattr(AdversarialNetwork, "discriminate", spy)
    params = {**FAST, "max_iter": 1, "batch_size": 100}
    for per_batch in (0, 7):
        seen.clear()
        aae = AdversarialAutoencoder(
            2, prior="mixture", labelled_per_batch=per_batch, **params
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            aae.fit(X, y_partial)
        # 1797 rows: 17 batches of 100 and one of 97, each judged three times
        # (prior draws, codes, codes again), then as many replayed rows.
        step = [100] * 3 + [per_batch] * 3 if per_batch else [100] * 3
        last = [97] * 3 + [per_batch] * 3 if per_batch else [97] * 3
        assert [len(slots) for slots in seen] == step * 17 + last
        # The replayed rows are labelled ones: none takes the last slot.
        replayed = [slots for slots in seen if len(slots) == per_batch]
        assert all((slots < 10).all() for slots in replayed)


def test_replayed_rows_are_the_labelled_ones_drawn_reproducibly(digits, monkeypatch):
    X, _ = digits
    labels = np.full(len(X), 10)
    labels[[3, 50, 700, 701, 1500]] = [4, 0, 9, 9, 2]
    param = torch.zeros((), dtype=torch.float64)
    replay = _aae._replayed_rows(X, labels, 10, 16, 0, param)
    np.testing.assert_array_equal(replay.rows.numpy(), X[[3, 50, 700, 701, 1500]])
    assert replay.labels.tolist() == [4, 0, 9, 9, 2] and replay.per_batch == 16
    # Nothing to replay: no labelled rows, no labels, or none asked for.
    assert _aae._replayed_rows(X, np.full(len(X), 10), 10, 16, 0, param) is None
    assert _aae._replayed_rows(X, None, 10, 16, 0, param) is None
    assert _aae._replayed_rows(X, labels, 10, 0, 0, param) is None
    # Past the cap, a seeded subset of the labelled rows.
    monkeypatch.setattr(_aae, "_REPLAYED_ROWS", 3)
    first = _aae._replayed_rows(X, labels, 10, 16, 0, param)
    again = _aae._replayed_rows(X, labels, 10, 16, 0, param)
    assert first.rows.shape == (3, 64)
    torch.testing.assert_close(first.rows, again.rows)
    assert set(first.labels.tolist()) <= {4, 0, 9, 2}


def test_labelled_per_batch_leaves_a_fit_without_labels_alone(digits):
    X, y = digits
    params = {**FAST, "max_iter": 3}
    plain = AdversarialAutoencoder(2, prior="mixture", **params).fit(X)
    replaying = AdversarialAutoencoder(
        2, prior="mixture", labelled_per_batch=16, **params
    )
    np.testing.assert_array_equal(replaying.fit(X).transform(X), plain.transform(X))
    # With labels, the replay changes the fit.
    y_partial = np.where(np.arange(len(y)) < 50, y, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        replayed = replaying.fit(X, y_partial).transform(X)
        unreplayed = plain.fit(X, y_partial).transform(X)
    assert not np.allclose(replayed, unreplayed)


def test_the_labels_warning_suggests_replaying_labelled_rows(digits):
    X, y = digits
    aae = AdversarialAutoencoder(
        2, prior="mixture", **{**FAST, "max_iter": 1, "learning_rate_init": 1e-7}
    )
    with pytest.warns(ConvergenceWarning, match=r"labelled_per_batch=32"):
        aae.fit(X, y)
