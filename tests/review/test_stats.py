"""The statistics against independent computations on fixed data (scipy, scikit-learn)."""
import numpy as np
import pytest
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression

from labelstudio_app.review import stats


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 10), (8, 10), (50, 100), (517, 1000), (0, 37), (36, 37)])
def test_it_matches_scipys_wilson_interval(k, n):
    expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = stats.wilson_interval(k, n)
    assert low == pytest.approx(expected.low, abs=1e-9)
    assert high == pytest.approx(expected.high, abs=1e-9)


@pytest.mark.parametrize(("k", "n", "p"), [(0, 0, 0.5), (3, 10, 0.5), (5, 10, 0.5), (9, 10, 0.5), (60, 100, 0.5),
                                           (510, 1000, 0.5), (7, 20, 0.3), (1, 30, 0.1), (0, 12, 0.5),
                                           (12, 12, 0.5), (4800, 10000, 0.5)])
def test_it_matches_scipys_binomial_test(k, n, p):
    ours = stats.binomial_test(k, n, p)
    if n == 0:
        assert ours == 1.0
        return
    assert ours == pytest.approx(binomtest(k, n, p, alternative="two-sided").pvalue, rel=1e-9, abs=1e-300)


def test_it_counts_ties_as_half_in_the_win_rate():
    outcomes = np.array([1] * 6 + [0] * 2 + [0.5] * 2)
    wr = stats.win_rate(outcomes)
    assert (wr["wins"], wr["losses"], wr["ties"]) == (6, 2, 2)
    assert wr["rate"] == pytest.approx(0.7)
    assert (wr["low"], wr["high"]) == pytest.approx(stats.wilson_interval(7, 10))
    assert wr["p_value"] == pytest.approx(binomtest(6, 8).pvalue)


def _battles(seed=3, k=4, n=3000):
    rng = np.random.default_rng(seed)
    true = np.array([0.0, 0.4, -0.3, 0.9])[:k]
    a = rng.integers(0, k, n)
    b = (a + rng.integers(1, k, n)) % k
    p = 1 / (1 + np.exp(-(true[a] - true[b])))
    return a, b, (rng.random(n) < p).astype(float)


def test_it_fits_bradley_terry_like_an_unpenalised_logistic_regression():
    a, b, y = _battles()
    k = 4
    x = np.zeros((a.size, k))
    x[np.arange(a.size), a] = 1
    x[np.arange(a.size), b] = -1
    lr = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10, max_iter=10_000).fit(x, y)
    coef = lr.coef_[0] - lr.coef_[0].mean()
    expected = 1000 + 400 / np.log(10) * coef

    wins, ties = stats.pair_counts(a, b, y, k)
    ours = stats.bradley_terry(wins, ties)["rating"]
    np.testing.assert_allclose(ours, expected, atol=0.05)
    assert ours.mean() == pytest.approx(1000)
    assert np.argmax(ours) == 3 and np.argmin(ours) == 2


def test_it_treats_ties_as_half_wins_in_bradley_terry():
    a, b, y = _battles(seed=5)
    y[::7] = 0.5
    k = 4
    x = np.zeros((a.size, k))
    x[np.arange(a.size), a] = 1
    x[np.arange(a.size), b] = -1
    # a tie is one half-weighted win for each side
    tie = y == 0.5
    xx = np.vstack([x[~tie], x[tie], x[tie]])
    yy = np.concatenate([y[~tie], np.ones(tie.sum()), np.zeros(tie.sum())])
    ww = np.concatenate([np.ones((~tie).sum()), np.full(tie.sum(), 0.5), np.full(tie.sum(), 0.5)])
    lr = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-10, max_iter=10_000).fit(xx, yy, sample_weight=ww)
    coef = lr.coef_[0] - lr.coef_[0].mean()
    wins, ties = stats.pair_counts(a, b, y, k)
    np.testing.assert_allclose(stats.bradley_terry(wins, ties)["rating"], 1000 + 400 / np.log(10) * coef, atol=0.05)


def test_it_bootstraps_reproducibly_with_a_seed():
    a, b, y = _battles()
    wins, ties = stats.pair_counts(a, b, y, 4)
    one = stats.bradley_terry(wins, ties, bootstrap=300, seed=7)
    two = stats.bradley_terry(wins, ties, bootstrap=300, seed=7)
    other = stats.bradley_terry(wins, ties, bootstrap=300, seed=8)
    np.testing.assert_array_equal(one["low"], two["low"])
    np.testing.assert_array_equal(one["high"], two["high"])
    assert not np.array_equal(one["low"], other["low"])
    assert np.all(one["low"] < one["rating"]) and np.all(one["rating"] < one["high"])


def test_it_builds_the_pairwise_win_matrix():
    wins = np.array([[0, 3], [1, 0]], dtype=float)
    ties = np.array([[0, 2], [2, 0]], dtype=float)
    m = stats.win_matrix(wins, ties)
    assert m[0, 1] == pytest.approx(4 / 6) and m[1, 0] == pytest.approx(2 / 6)
    assert np.isnan(m[0, 0])


def test_it_sees_position_bias_when_left_always_wins_and_not_on_a_fair_round():
    biased = stats.position_bias(np.ones(40, dtype=bool))
    assert biased["rate"] == 1.0 and biased["p_value"] < 1e-6
    fair = stats.position_bias(np.array([True, False] * 20))
    assert fair["rate"] == 0.5 and fair["p_value"] == 1.0


def test_it_sees_length_bias_when_the_longer_answer_always_wins():
    rng = np.random.default_rng(1)
    la, lb = rng.integers(20, 400, 200), rng.integers(20, 400, 200)
    outcome = (la > lb).astype(float)
    lb[la == lb] += 1
    outcome = (la > lb).astype(float)
    lb_ = stats.length_bias(outcome, la, lb)
    assert lb_["longer_wins"]["rate"] == 1.0
    assert lb_["length_coef"] > 5
    rates = [b["rate"] for b in lb_["buckets"] if b["n"]]
    assert rates[0] == 0.0 and rates[-1] == 1.0
    fair = stats.length_bias(rng.integers(0, 2, 200).astype(float), la, lb)
    assert 0.3 < fair["longer_wins"]["rate"] < 0.7 and abs(fair["length_coef"]) < 2


def test_it_controls_the_win_rate_for_length_like_sklearn():
    rng = np.random.default_rng(2)
    la, lb = rng.integers(20, 400, 500), rng.integers(20, 400, 500)
    rel = (la - lb) / (la + lb)
    y = (rng.random(500) < 1 / (1 + np.exp(-(0.4 + 2 * rel)))).astype(float)
    lr = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(rel[:, None], y)
    out = stats.length_bias(y, la, lb)
    assert out["controlled_rate"] == pytest.approx(1 / (1 + np.exp(-lr.intercept_[0])), abs=1e-4)
    assert out["length_coef"] == pytest.approx(lr.coef_[0][0], abs=1e-3)


def test_it_measures_agreement_with_fleiss_kappa():
    # the worked example of Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories
    table = np.array([[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
                      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]])
    assert stats.fleiss_kappa(table) == pytest.approx(0.210, abs=1e-3)
    group = np.array([1, 1, 2, 2, 3, 3, 4])
    label = np.array([0, 0, 0, 1, 2, 2, 0])
    agr = stats.agreement(group, label, 4)
    assert agr["comparisons"] == 3 and agr["pairs"] == 3
    assert agr["pair_agreement"] == pytest.approx(2 / 3)


def test_it_computes_mean_intervals():
    x = np.array([1, 2, 3, 4, 5], dtype=float)
    m = stats.mean_interval(x)
    assert m["mean"] == 3 and m["high"] - m["mean"] == pytest.approx(1.959964 * np.std(x, ddof=1) / np.sqrt(5))
