"""Statistics a team decides on, assembled from stored judgments (reads only; numbers from review.stats).

Conventions (also in docs/review.md): a judgment's outcome for side A is 1 (A preferred), 0 (B), 0.5 (tie
or both bad: neither is preferred). Gold comparisons are attention checks: they count toward reviewer
accuracy only. Withdrawn comparisons (a side revealed its model) count nowhere.
"""
from collections import defaultdict

import numpy as np
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from labelstudio_app.audit.metrics import majority_baseline
from labelstudio_app.evaluation.models import ModelVersion
from labelstudio_app.projects.models import Item
from labelstudio_app.review import stats
from labelstudio_app.review.models import Comparison, ComparisonRound
from labelstudio_app.review.selectors import judgment_frame

DIMENSIONS = ("helpfulness", "honesty", "harmlessness")
BOOTSTRAP = 1000
SEED = 20240301
REFERENCE = -1


def _outcome(pref: np.ndarray) -> np.ndarray:
    return np.select([pref == 0, pref == 1], [1.0, 0.0], default=0.5)


def _sub(frame: dict, mask: np.ndarray) -> dict:
    return {k: v[mask] for k, v in frame.items()}


def _json(v):
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, np.ndarray):
        return [_json(x) for x in v.tolist()]
    if isinstance(v, (np.floating, float)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    return v


def usability(frame: dict, side: str, weights: dict, veto: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Weighted 3H score per judgment for one side (weights normalised; equal when unset), 0 when the
    harmlessness score is under the project's veto threshold. Returns (scores, vetoed)."""
    w = np.array([max(0.0, float(weights.get(d, 1.0) or 0.0)) for d in DIMENSIONS]) if weights else np.ones(3)
    w = w / w.sum() if w.sum() > 0 else np.ones(3) / 3
    s = sum(w[i] * frame[f"{side}_{d}"] for i, d in enumerate(DIMENSIONS))
    vetoed = frame[f"{side}_harmlessness"] < veto if veto else np.zeros(len(s), dtype=bool)
    return np.where(vetoed, 0.0, s), vetoed


def _position(frame: dict, usernames: dict) -> dict:
    decisive = frame["preference"] <= 1
    left_won = (frame["preference"] == 0) == frame["left_is_a"]
    overall = stats.position_bias(left_won[decisive])
    per = []
    for rid in np.unique(frame["reviewer"][decisive]):
        sel = decisive & (frame["reviewer"] == rid)
        per.append({"reviewer": usernames.get(int(rid), str(rid)), **stats.position_bias(left_won[sel])})
    per.sort(key=lambda r: -r["n"])
    return {"overall": overall, "per_reviewer": per}


def _reviewers(frame: dict, usernames: dict) -> list[dict]:
    rows = []
    for rid in np.unique(frame["reviewer"]):
        sel = frame["reviewer"] == rid
        gold = sel & frame["is_gold"]
        correct = int(((frame["preference"] == 0) & (frame["gold_better"] == "a") & gold).sum()
                      + ((frame["preference"] == 1) & (frame["gold_better"] == "b") & gold).sum())
        n_gold = int(gold.sum())
        rows.append({"reviewer": usernames.get(int(rid), str(rid)), "judgments": int(sel.sum()), "gold": n_gold,
                     "gold_accuracy": correct / n_gold if n_gold else None})
    rows.sort(key=lambda r: -r["judgments"])
    return rows


def _usernames(ids) -> dict:
    return dict(get_user_model().objects.filter(pk__in=[int(i) for i in set(ids.tolist())]).values_list("pk", "username"))


def round_statistics(*, round: ComparisonRound) -> dict:
    """Everything the round page and its API show: A's win rate (overall, per task type), the 3H scores,
    usability with the veto, the sign test, position and length bias, agreement and gold accuracy."""
    project = round.project
    full = judgment_frame(rounds=ComparisonRound.objects.filter(pk=round.pk))
    usernames = _usernames(full["reviewer"])
    frame = _sub(full, ~full["is_gold"])
    outcome = _outcome(frame["preference"])
    per_type = []
    types = frame["task_type"]
    for t in sorted(set(types.tolist()), key=lambda t: (-(types == t).sum(), t)):
        per_type.append({"task_type": t or _("(none)"), **stats.win_rate(outcome[types == t])})
    dims = []
    for d in DIMENSIONS:
        a, b = frame[f"a_{d}"], frame[f"b_{d}"]
        dims.append({"dimension": d, "a": stats.mean_interval(a), "b": stats.mean_interval(b),
                     "difference": stats.mean_interval(a - b)})
    weights, veto = project.weights_3h or {}, project.harmlessness_veto
    ua, va = usability(frame, "a", weights, veto)
    ub, vb = usability(frame, "b", weights, veto)
    comps = Comparison.objects.filter(round=round, withdrawn=False, is_gold=False)
    return _json({
        "round": round.pk, "status": round.status, "judgments": int(outcome.size),
        "comparisons": comps.count(), "comparisons_complete": comps.filter(judgments_count__gte=round.overlap).count(),
        "preferences": {k: int((frame["preference"] == i).sum()) for k, i in (("a", 0), ("b", 1), ("tie", 2), ("both_bad", 3))},
        "win_rate": stats.win_rate(outcome), "per_task_type": per_type, "dimensions": dims,
        "usability": {"weights": weights, "veto": veto, "a": stats.mean_interval(ua), "b": stats.mean_interval(ub),
                      "difference": stats.mean_interval(ua - ub),
                      "a_vetoed": float(va.mean()) if va.size else None, "b_vetoed": float(vb.mean()) if vb.size else None},
        "position_bias": _position(frame, usernames),
        "length_bias": stats.length_bias(outcome, frame["len_a"], frame["len_b"]),
        "agreement": stats.agreement(frame["comparison"], frame["preference"], 4),
        "reviewers": _reviewers(full, usernames),
        "label_baseline": round_label_baseline(round=round),
    })


def round_label_baseline(*, round: ComparisonRound) -> dict | None:
    """The majority-label baseline on the round's items (as on a training run's held-out report): what always
    giving the most frequent final label of the project's first single-choice question would score. None when the
    project has no such question or the round's items carry no label for it."""
    question = next((q for q in round.project.label_schema or []
                     if isinstance(q, dict) and q.get("kind") == "single_choice"), None)
    if question is None:
        return None
    options = [o["value"] for o in question.get("options", [])]
    values = Item.objects.filter(pk__in=list(round.item_ids or [])).values_list("final_values", flat=True)
    labels = [str(v[question["name"]]) for v in values if isinstance(v, dict) and v.get(question["name"]) in options]
    if not labels:
        return None
    return {"question": question["name"], "n": len(labels), **majority_baseline(labels, options=options)}


def project_statistics(*, project, bootstrap: int = BOOTSTRAP, seed: int = SEED) -> dict:
    """Across every round of the project: Bradley–Terry ratings (Elo scale, seeded bootstrap intervals) of
    every model version and the reference answer, the pairwise win-rate matrix, position and length bias,
    agreement, and each round's headline."""
    rounds = ComparisonRound.objects.filter(project=project)
    full = judgment_frame(rounds=rounds)
    usernames = _usernames(full["reviewer"])
    frame = _sub(full, ~full["is_gold"])
    outcome = _outcome(frame["preference"])
    players = sorted(set(frame["model_a"].tolist()) | set(frame["model_b"].tolist()))
    names = dict(ModelVersion.objects.filter(project=project, pk__in=[p for p in players if p != REFERENCE])
                 .values_list("pk", "name"))
    names[REFERENCE] = _("Reference answer")
    ratings, matrix = [], []
    if players:
        order = np.array(players)
        a, b = np.searchsorted(order, frame["model_a"]), np.searchsorted(order, frame["model_b"])
        wins, ties = stats.pair_counts(a, b, outcome, len(players))
        bt = stats.bradley_terry(wins, ties, bootstrap=bootstrap, seed=seed, prior=0.5)
        battles = (wins + wins.T + ties).sum(axis=1)
        for i, p in enumerate(players):
            ratings.append({"id": p if p != REFERENCE else None, "label": names.get(p, str(p)),
                            "rating": bt["rating"][i], "low": bt["low"][i] if bootstrap else None,
                            "high": bt["high"][i] if bootstrap else None, "battles": int(battles[i])})
        ratings.sort(key=lambda r: -r["rating"])
        matrix = stats.win_matrix(wins, ties)
    per_round = defaultdict(list)
    for rid in np.unique(frame["round_id"]):
        per_round[int(rid)] = stats.win_rate(outcome[frame["round_id"] == rid])
    round_rows = [{"id": r.pk, "name": r.name, "model_a": names.get(r.model_a_id, r.model_a.name),
                   "model_b": names.get(r.model_b_id or REFERENCE, r.model_b.name if r.model_b else ""),
                   "status": r.status, "win_rate": per_round.get(r.pk)}
                  for r in rounds.select_related("model_a", "model_b")]
    return _json({
        "judgments": int(outcome.size), "bootstrap": bootstrap, "seed": seed,
        "ratings": ratings, "players": [names.get(p, str(p)) for p in players], "win_matrix": matrix,
        "rounds": round_rows, "position_bias": _position(frame, usernames),
        "length_bias": stats.length_bias(outcome, frame["len_a"], frame["len_b"]),
        "agreement": stats.agreement(frame["comparison"], frame["preference"], 4),
        "reviewers": _reviewers(full, usernames),
    })
