"""Classifier metrics against the human labels, and the scaling check. Pure: numpy only, no ORM.

How "unparseable" (a prediction of None) enters the numbers, stated once and used everywhere:
- accuracy: counted as a wrong answer (it is in the denominator, never in the numerator);
- recall of class c: an item labelled c whose answer was unparseable is a miss (a false negative for c);
- precision of class c: unparseable answers are excluded: they never predicted c, so they are neither true
  nor false positives of any class;
- the confusion matrix has an extra last column, "unparseable", so nothing disappears;
- the unparseable rate is reported on its own.
This is exactly scikit-learn's `precision_recall_fscore_support(y_true, y_pred, labels=classes)` with every
unparseable prediction replaced by a sentinel that is not in `classes` (see tests/audit/test_metrics.py).
Macro averages are the unweighted mean over the classes that occur in the human labels or the predictions.
"""
import math
from dataclasses import dataclass

import numpy as np


def _safe_div(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if (p + r) else 0.0


def classification_report(y_true: list[str], y_pred: list[str | None], *, options: list[str],
                          positive: str | None = None) -> dict:
    """Accuracy, per-class precision / recall / F1 / support, macro averages, the positive class, the confusion
    matrix (rows: human label in `options` order; columns: predictions in `options` order, then unparseable)."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} labels but {len(y_pred)} predictions")
    n = len(y_true)
    index = {v: i for i, v in enumerate(options)}
    k = len(options)
    matrix = np.zeros((k, k + 1), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        if t not in index:
            raise ValueError(f"human label {t!r} is not one of the question's options")
        matrix[index[t], index.get(p, k)] += 1
    tp = np.diag(matrix[:, :k])
    predicted = matrix[:, :k].sum(axis=0)
    support = matrix.sum(axis=1)
    per_class = {}
    for i, value in enumerate(options):
        p, r = _safe_div(tp[i], predicted[i]), _safe_div(tp[i], support[i])
        per_class[value] = {"precision": p, "recall": r, "f1": _f1(p, r), "support": int(support[i]),
                            "predicted": int(predicted[i])}
    present = [v for i, v in enumerate(options) if support[i] or predicted[i]]
    macro = {m: (float(np.mean([per_class[v][m] for v in present])) if present else 0.0)
             for m in ("precision", "recall", "f1")}
    unparseable = int(matrix[:, k].sum())
    report = {
        "n": n,
        "accuracy": _safe_div(tp.sum(), n),
        "unparseable": unparseable,
        "unparseable_rate": _safe_div(unparseable, n),
        "per_class": per_class,
        "macro": macro,
        "macro_classes": present,
        "confusion": {"labels": list(options), "columns": [*options, None], "matrix": matrix.tolist()},
        "positive": None,
    }
    if positive is not None:
        if positive not in index:
            raise ValueError(f"positive class {positive!r} is not one of the question's options")
        report["positive"] = {"value": positive, **per_class[positive]}
    return report


def metric_value(report: dict, metric: str) -> float:
    """One number from a report: accuracy, or precision / recall / f1 of the positive class when one is named,
    else their macro average."""
    if metric == "accuracy":
        return report["accuracy"]
    if metric not in ("precision", "recall", "f1"):
        raise ValueError(f"unknown metric {metric!r}")
    return report["positive"][metric] if report.get("positive") else report["macro"][metric]


def rank(values: list[float]) -> np.ndarray:
    """Ranks from 1, ties sharing their average rank (as scipy.stats.rankdata's default)."""
    a = np.asarray(values, dtype=float)
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a))
    i = 0
    while i < len(a):
        j = i
        while j + 1 < len(a) and a[order[j + 1]] == a[order[i]]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation; None when either side is constant or there are fewer than two points."""
    if len(x) < 2:
        return None
    rx, ry = rank(x), rank(y)
    if rx.std() == 0 or ry.std() == 0:
        return None
    return float(np.corrcoef(rx, ry)[0, 1])


@dataclass(frozen=True)
class ScalingPoint:
    key: object  # the caller's id for the model (a ModelVersion pk)
    name: str
    parameters: int
    value: float


def scaling_check(points: list[ScalingPoint], *, tolerance: float = 0.02) -> dict:
    """Does the metric rise with model size? Flags the family when Spearman's rho between log(parameters) and
    the metric is <= 0, or when any larger model scores below any smaller one by more than `tolerance`."""
    usable = sorted((p for p in points if p.parameters and p.parameters > 0), key=lambda p: p.parameters)
    skipped = [p.name for p in points if not (p.parameters and p.parameters > 0)]
    result = {"points": [p.__dict__ | {"log10_parameters": math.log10(p.parameters)} for p in usable],
              "skipped": skipped, "tolerance": tolerance, "rho": None, "inversions": [], "flagged": False,
              "verdict": "not_enough"}
    if len({p.parameters for p in usable}) < 2:
        return result
    rho = spearman([math.log10(p.parameters) for p in usable], [p.value for p in usable])
    inversions = [
        {"smaller": a.name, "larger": b.name, "drop": round(a.value - b.value, 6)}
        for i, a in enumerate(usable) for b in usable[i + 1:]
        if b.parameters > a.parameters and a.value - b.value > tolerance
    ]
    reasons = []
    if rho is None or rho <= 0:
        reasons.append("rho")
    if inversions:
        reasons.append("inversion")
    result.update(rho=rho, inversions=inversions, flagged=bool(reasons), reasons=reasons,
                  verdict="flagged" if reasons else "rises")
    return result


def larger_half(points: list[ScalingPoint]) -> list[ScalingPoint]:
    """The larger half of the family by size (at least two models when there are two)."""
    ordered = sorted((p for p in points if p.parameters), key=lambda p: p.parameters)
    take = min(len(ordered), max(2, math.ceil(len(ordered) / 2)))
    return ordered[len(ordered) - take:]


# ---- held-out comparison of two models on the same items ---------------------------------------------------

def majority_baseline(y_true: list[str], *, options: list[str]) -> dict:
    """What "always answer the most frequent label" scores on these labels (ties: the first in `options`)."""
    counts = {v: y_true.count(v) for v in options}
    label = max(options, key=lambda v: counts[v]) if y_true else None
    report = classification_report(y_true, [label] * len(y_true), options=options)
    return {"label": label, "accuracy": report["accuracy"], "macro_f1": report["macro"]["f1"]}


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value: b items only the first model got right, c only the second. The
    discordant pairs are Binomial(b + c, 1/2) under "no difference"; p = min(1, 2 * P(X <= min(b, c)))."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired_bootstrap(base_right: list[bool], new_right: list[bool], *, n_resamples: int = 2000,
                     seed: int = 0) -> dict:
    """Accuracy difference new minus base with a 95% percentile interval from a seeded paired bootstrap
    (items resampled with replacement, both models' answers kept together)."""
    a = np.asarray(base_right, dtype=float)
    b = np.asarray(new_right, dtype=float)
    if len(a) != len(b):
        raise ValueError("both models must answer the same items")
    if not len(a):
        return {"diff": 0.0, "low": 0.0, "high": 0.0, "n_resamples": 0}
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(a), size=(n_resamples, len(a)))
    diffs = (b[idx] - a[idx]).mean(axis=1)
    low, high = np.percentile(diffs, [2.5, 97.5])
    return {"diff": float(b.mean() - a.mean()), "low": float(low), "high": float(high), "n_resamples": n_resamples}


def paired_bootstrap_macro_f1(y_true: list[str], base_pred: list[str | None], new_pred: list[str | None], *,
                              options: list[str], n_resamples: int = 2000, seed: int = 0) -> dict:
    """Macro-F1 difference new minus base with a 95% percentile interval from a seeded paired bootstrap (items
    resampled with replacement, both models' answers kept together). Macro-F1 as classification_report counts
    it: the mean F1 over classes present among the labels or the predictions of the resample."""
    n = len(y_true)
    if not n:
        return {"diff": 0.0, "low": 0.0, "high": 0.0, "n_resamples": 0}
    index = {v: i for i, v in enumerate(options)}
    truth = np.zeros((n, len(options)))
    truth[np.arange(n), [index[t] for t in y_true]] = 1

    def onehot(pred):
        m = np.zeros((n, len(options)))
        for row, p in enumerate(pred):
            if p in index:
                m[row, index[p]] = 1
        return m

    def macro(weights, pred):  # weights: (resamples, n) counts of each item in each resample
        tp, predicted, actual = weights @ (truth * pred), weights @ pred, weights @ truth
        present = (predicted + actual) > 0
        f1 = np.divide(2 * tp, predicted + actual, out=np.zeros_like(tp), where=present)
        return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)

    base, new = onehot(base_pred), onehot(new_pred)
    full = np.ones((1, n))
    rng = np.random.default_rng(seed)
    diffs = []
    for start in range(0, n_resamples, 250):  # in chunks, so memory stays bounded on a large held-out set
        size = min(250, n_resamples - start)
        idx = rng.integers(0, n, size=(size, n))
        weights = np.zeros((size, n))
        np.add.at(weights, (np.repeat(np.arange(size), n), idx.ravel()), 1)
        diffs.append(macro(weights, new) - macro(weights, base))
    low, high = np.percentile(np.concatenate(diffs), [2.5, 97.5])
    return {"diff": float(macro(full, new)[0] - macro(full, base)[0]), "low": float(low), "high": float(high),
            "n_resamples": n_resamples}


def heldout_comparison(y_true: list[str], base_pred: list[str | None], new_pred: list[str | None], *,
                       options: list[str], seed: int = 0) -> dict:
    """Base vs new version on the same held-out items: accuracy and macro-F1 of each, the majority baseline,
    the accuracy and macro-F1 differences with their 95% intervals, and the exact McNemar test on the paired
    right / wrong."""
    base = classification_report(y_true, base_pred, options=options)
    new = classification_report(y_true, new_pred, options=options)
    base_right = [p == t for t, p in zip(y_true, base_pred)]
    new_right = [p == t for t, p in zip(y_true, new_pred)]
    only_base = sum(1 for x, y in zip(base_right, new_right) if x and not y)
    only_new = sum(1 for x, y in zip(base_right, new_right) if y and not x)
    return {
        "n": len(y_true),
        "base": {"accuracy": base["accuracy"], "macro_f1": base["macro"]["f1"]},
        "new": {"accuracy": new["accuracy"], "macro_f1": new["macro"]["f1"]},
        "baseline": majority_baseline(y_true, options=options),
        "difference": paired_bootstrap(base_right, new_right, seed=seed),
        "macro_f1_difference": paired_bootstrap_macro_f1(y_true, base_pred, new_pred, options=options, seed=seed),
        "mcnemar": {"only_base_right": only_base, "only_new_right": only_new,
                    "p": mcnemar_exact(only_base, only_new)},
    }
