"""Held-out comparison metrics: exact values on small cases, McNemar against scipy's exact binomial test."""
import pytest
from scipy.stats import binomtest

from labelstudio_app.audit.metrics import heldout_comparison, majority_baseline, mcnemar_exact, paired_bootstrap

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
