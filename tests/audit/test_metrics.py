"""Our metrics equal scikit-learn's on the same predictions, with unparseable answers as a sentinel class that
is never one of the labels (so they are misses for recall and left out of precision)."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from labelstudio_app.audit.metrics import (
    ScalingPoint,
    classification_report,
    larger_half,
    scaling_check,
    spearman,
)

OPTIONS = ["yes", "no", "not_question"]
SENTINEL = "__unparseable__"


def _check_against_sklearn(y_true, y_pred, positive="yes"):
    ours = classification_report(y_true, y_pred, options=OPTIONS, positive=positive)
    sk_pred = [p if p is not None else SENTINEL for p in y_pred]
    assert ours["accuracy"] == pytest.approx(accuracy_score(y_true, sk_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, sk_pred, labels=OPTIONS, zero_division=0)
    for i, value in enumerate(OPTIONS):
        got = ours["per_class"][value]
        assert (got["precision"], got["recall"], got["f1"], got["support"]) == pytest.approx((p[i], r[i], f[i], s[i]))
    present = ours["macro_classes"]
    mp, mr, mf, _ = precision_recall_fscore_support(y_true, sk_pred, labels=present, average="macro",
                                                    zero_division=0)
    assert (ours["macro"]["precision"], ours["macro"]["recall"], ours["macro"]["f1"]) == pytest.approx((mp, mr, mf))
    cm = confusion_matrix(y_true, sk_pred, labels=[*OPTIONS, SENTINEL])
    assert ours["confusion"]["matrix"] == cm[:len(OPTIONS)].tolist()
    assert ours["unparseable"] == sum(p is None for p in y_pred)
    pp, pr, pf, _ = precision_recall_fscore_support(y_true, sk_pred, labels=[positive], zero_division=0)
    assert (ours["positive"]["precision"], ours["positive"]["recall"], ours["positive"]["f1"]) == pytest.approx(
        (pp[0], pr[0], pf[0]))
    return ours


def test_it_equals_scikit_learn_on_a_worked_example():
    y_true = ["yes", "yes", "yes", "no", "no", "not_question", "yes", "no"]
    y_pred = ["yes", "no", None, "no", "yes", "not_question", "yes", None]
    ours = _check_against_sklearn(y_true, y_pred)
    # by hand: yes predicted 3 times, 2 right -> P 2/3; 4 labelled yes, 2 found -> R 1/2 (the unparseable one is a miss)
    assert ours["per_class"]["yes"]["precision"] == pytest.approx(2 / 3)
    assert ours["per_class"]["yes"]["recall"] == pytest.approx(0.5)
    assert ours["accuracy"] == pytest.approx(4 / 8) and ours["unparseable_rate"] == pytest.approx(2 / 8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OPTIONS), st.sampled_from([*OPTIONS, None])), min_size=1, max_size=40))
def test_it_equals_scikit_learn_on_any_predictions(pairs):
    _check_against_sklearn([t for t, _ in pairs], [p for _, p in pairs])


def test_it_rejects_a_label_outside_the_options():
    with pytest.raises(ValueError, match="maybe"):
        classification_report(["maybe"], ["yes"], options=OPTIONS)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=2, max_size=12))
def test_its_spearman_equals_scipy(pairs):
    x, y = [a for a, _ in pairs], [b for _, b in pairs]
    ours = spearman(x, y)
    if len(set(x)) < 2 or len(set(y)) < 2:
        assert ours is None  # undefined; scipy answers nan with a warning
    else:
        assert ours == pytest.approx(spearmanr(x, y).statistic)


def _family(values, sizes=(5e8, 1.5e9, 7e9, 1.4e10, 3.2e10)):
    return [ScalingPoint(key=i, name=f"m{i}", parameters=int(n), value=v) for i, (n, v) in enumerate(zip(sizes, values))]


def test_it_passes_a_family_whose_precision_rises():
    result = scaling_check(_family([0.6, 0.7, 0.72, 0.8, 0.85]))
    assert result["verdict"] == "rises" and not result["flagged"] and result["rho"] == pytest.approx(1.0)
    assert result["points"][0]["log10_parameters"] == pytest.approx(math.log10(5e8))


def test_it_flags_a_family_whose_precision_falls():
    result = scaling_check(_family([0.8, 0.75, 0.7, 0.6, 0.55]))
    assert result["flagged"] and "rho" in result["reasons"] and result["rho"] == pytest.approx(-1.0)


def test_it_flags_one_larger_model_worse_beyond_the_tolerance():
    result = scaling_check(_family([0.6, 0.7, 0.8, 0.7, 0.9]), tolerance=0.02)
    assert result["flagged"] and result["reasons"] == ["inversion"] and result["rho"] > 0
    assert {"smaller": "m2", "larger": "m3", "drop": pytest.approx(0.1)} in result["inversions"]
    assert not scaling_check(_family([0.6, 0.7, 0.8, 0.79, 0.9]), tolerance=0.02)["flagged"]


def test_it_needs_two_sizes_to_judge():
    assert scaling_check(_family([0.5]))["verdict"] == "not_enough"
    assert scaling_check([ScalingPoint(1, "a", 0, 0.5), ScalingPoint(2, "b", 0, 0.7)])["skipped"] == ["a", "b"]


def test_it_takes_the_larger_half_of_the_family():
    assert [p.name for p in larger_half(_family([0.1] * 5))] == ["m2", "m3", "m4"]
    assert [p.name for p in larger_half(_family([0.1] * 2))] == ["m0", "m1"]
    assert np.isfinite(scaling_check(_family([0.5, 0.5, 0.5]))["tolerance"])
