"""Held-out comparison metrics: exact values on small cases, McNemar against scipy's exact binomial test."""
import pytest
from scipy.stats import binomtest

from labelstudio_app.audit.metrics import (
    classification_report,
    heldout_comparison,
    majority_baseline,
    mcnemar_exact,
    paired_bootstrap,
    paired_bootstrap_macro_f1,
)

OPTIONS = ["yes", "no", "not_question"]


@pytest.mark.parametrize("b,c", [(0, 0), (0, 5), (3, 3), (1, 9), (12, 4), (0, 30), (25, 40)])
def test_it_computes_the_exact_mcnemar_p_value_as_scipy(b, c):
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5, alternative="two-sided").pvalue
    assert mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_it_scores_the_majority_label_baseline():
    base = majority_baseline(["yes", "yes", "no", "yes", "not_question"], options=OPTIONS)
    assert base["label"] == "yes" and base["accuracy"] == pytest.approx(0.6)
    # macro-F1 over the classes present: yes has P 0.6, R 1 -> F1 0.75; no and not_question 0.
    assert base["macro_f1"] == pytest.approx(0.75 / 3)


def test_it_gives_a_seeded_paired_bootstrap_interval_around_the_difference():
    base = [True, False, False, True, False, False, True, False, False, False]
    new = [True, True, True, True, False, True, True, True, False, True]
    a = paired_bootstrap(base, new, seed=3)
    assert a == paired_bootstrap(base, new, seed=3)
    assert a["diff"] == pytest.approx(0.5) and a["low"] <= 0.5 <= a["high"] and a["low"] > 0
    same = paired_bootstrap(base, base, seed=3)
    assert same["diff"] == same["low"] == same["high"] == 0.0


def test_it_compares_base_and_new_version_on_the_same_items():
    truth = ["yes", "yes", "no", "no", "not_question", "yes"]
    base = ["yes", "yes", "yes", "yes", "yes", "yes"]  # the constant answer
    new = ["yes", "no", "no", "no", "not_question", None]
    out = heldout_comparison(truth, base, new, options=OPTIONS)
    assert out["n"] == 6
    assert out["base"]["accuracy"] == pytest.approx(0.5)
    assert out["base"]["accuracy"] == out["baseline"]["accuracy"]  # a constant answer ties the baseline
    assert out["new"]["accuracy"] == pytest.approx(4 / 6)
    # new: yes P 1 R 1/3 -> 0.5; no P 2/3 R 1 -> 0.8; not_question 1 -> macro 2.3 / 3.
    assert out["new"]["macro_f1"] == pytest.approx((0.5 + 0.8 + 1.0) / 3)
    assert out["mcnemar"] == {"only_base_right": 2, "only_new_right": 3, "p": pytest.approx(1.0)}
    assert out["difference"]["diff"] == pytest.approx(1 / 6)


def test_it_gives_a_paired_bootstrap_interval_of_the_macro_f1_difference():
    """The point difference is classification_report's macro-F1 difference (classes present only; an
    unparseable answer predicts no class); the interval is seeded and flips sign with the roles."""
    y = ["yes"] * 8 + ["no"] * 8 + ["not_question"] * 4
    base = ["yes"] * 12 + ["no"] * 4 + [None] * 4
    new = ["yes"] * 7 + ["no"] * 10 + ["not_question"] * 3
    d = paired_bootstrap_macro_f1(y, base, new, options=OPTIONS, seed=5)
    expected = (classification_report(y, new, options=OPTIONS)["macro"]["f1"]
                - classification_report(y, base, options=OPTIONS)["macro"]["f1"])
    assert d["diff"] == pytest.approx(expected) and d["low"] <= expected <= d["high"]
    assert d == paired_bootstrap_macro_f1(y, base, new, options=OPTIONS, seed=5)
    worse = paired_bootstrap_macro_f1(y, new, base, options=OPTIONS, seed=5)
    assert worse["high"] < 0 < d["low"]
    assert heldout_comparison(y, base, new, options=OPTIONS)["macro_f1_difference"]["diff"] == pytest.approx(expected)


def test_its_macro_f1_resamples_equal_the_report_on_each_resampled_list():
    """The vectorised bootstrap against the slow one: the same seeded resamples, each scored by
    classification_report on the resampled lists."""
    import numpy as np

    y = ["yes"] * 8 + ["no"] * 8 + ["not_question"] * 4
    base = ["yes"] * 12 + ["no"] * 4 + [None] * 4
    new = ["yes"] * 7 + ["no"] * 10 + ["not_question"] * 3
    idx = np.random.default_rng(9).integers(0, len(y), size=(200, len(y)))

    def macro(truth, pred, rows):
        return classification_report([truth[i] for i in rows], [pred[i] for i in rows], options=OPTIONS)["macro"]["f1"]

    slow = [macro(y, new, rows) - macro(y, base, rows) for rows in idx]
    fast = paired_bootstrap_macro_f1(y, base, new, options=OPTIONS, n_resamples=200, seed=9)
    assert (fast["low"], fast["high"]) == pytest.approx(tuple(np.percentile(slow, [2.5, 97.5])))
