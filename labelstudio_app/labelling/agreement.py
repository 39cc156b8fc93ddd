"""Agreement and annotator quality: pure functions of plain data (no ORM).

- Cohen's kappa for two annotators (nominal).
- Krippendorff's alpha for any number of annotators with missing values, nominal or ordinal, computed
  from the coincidence matrix (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability").
- Per-question agreement over a project's annotations, per-annotator accuracy on gold items, speed.
"""
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from statistics import median

from labelstudio_app.projects.schema import LIST_KINDS

MISSING = None


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two annotators over the same units; None when undefined (one category only)."""
    if len(a) != len(b):
        raise ValueError("both annotators need a value for every unit")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def _coincidences(units: Iterable[Sequence[Hashable | None]]) -> dict[tuple, float]:
    o: dict[tuple, float] = defaultdict(float)
    for unit in units:
        values = [v for v in unit if v is not MISSING]
        m = len(values)
        if m < 2:
            continue  # a unit with one value carries no information about agreement
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    o[(c, k)] += 1 / (m - 1)
    return o


def krippendorff_alpha(units: Iterable[Sequence[Hashable | None]], level: str = "nominal") -> float | None:
    """Alpha over `units` (one row per item: each annotator's value or None). `level`: nominal or ordinal
    (ordinal values must sort). None when undefined (fewer than two pairable values, or one value only)."""
    if level not in ("nominal", "ordinal"):
        raise ValueError(f"unknown level {level!r}")
    o = _coincidences(units)
    n_c: dict = defaultdict(float)
    for (c, _k), w in o.items():
        n_c[c] += w
    n = sum(n_c.values())
    if n <= 1 or len(n_c) < 2:
        return None
    if level == "nominal":
        def delta(c, k):
            return 0.0 if c == k else 1.0
    else:
        ranks = sorted(n_c)
        position = {v: i for i, v in enumerate(ranks)}
        cumulative = [0.0]
        for v in ranks:
            cumulative.append(cumulative[-1] + n_c[v])

        def delta(c, k):
            lo, hi = sorted((position[c], position[k]))
            between = cumulative[hi + 1] - cumulative[lo]
            return (between - (n_c[c] + n_c[k]) / 2) ** 2
    observed = sum(w * delta(c, k) for (c, k), w in o.items())
    expected = sum(n_c[c] * n_c[k] * delta(c, k) for c in n_c for k in n_c)
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def _answer(question: dict, values: dict):
    value = values.get(question["name"])
    if question["kind"] in LIST_KINDS:
        return tuple(value or ())  # answering the item without ticking a flag means "no flags"
    return value


def question_agreement(schema: list[dict], annotations: Iterable[tuple]) -> list[dict]:
    """Per question (text questions excepted): alpha over items with two or more annotations, and Cohen's
    kappa when exactly two annotators took part. `annotations`: (item_id, annotator, values) triples."""
    by_item: dict = defaultdict(dict)
    for item_id, annotator, values in annotations:
        by_item[item_id][annotator] = values
    shared = {item: answers for item, answers in by_item.items() if len(answers) >= 2}
    annotators = sorted({a for answers in shared.values() for a in answers}, key=str)
    out = []
    for question in schema:
        if question["kind"] == "text":
            continue
        level = "ordinal" if question["kind"] == "rating" else "nominal"
        units = [[_answer(question, answers[a]) if a in answers else MISSING for a in annotators]
                 for answers in shared.values()]
        row = {"name": question["name"], "label": question.get("label", question["name"]), "level": level,
               "items": sum(1 for u in units if sum(v is not MISSING for v in u) >= 2),
               "annotators": len(annotators), "alpha": krippendorff_alpha(units, level), "kappa": None}
        if len(annotators) == 2:
            pairs = [(u[0], u[1]) for u in units if u[0] is not MISSING and u[1] is not MISSING]
            row["kappa"] = cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
        out.append(row)
    return out


def gold_accuracy(schema: list[dict], rows: Iterable[tuple]) -> dict:
    """Per annotator and per question: the share of gold items answered as the gold answer says.
    `rows`: (annotator, values, gold_values). Only questions the gold answer covers are scored."""
    hits: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for annotator, values, gold in rows:
        for question in schema:
            name = question["name"]
            if not gold or name not in gold or question["kind"] == "text":
                continue
            expected = _answer(question, gold)
            cell = hits[annotator][name]
            cell[0] += _answer(question, values) == expected
            cell[1] += 1
    result = {}
    for annotator, per_question in hits.items():
        correct = sum(c for c, _ in per_question.values())
        total = sum(t for _, t in per_question.values())
        result[annotator] = {
            "overall": correct / total if total else None, "answers": total,
            "questions": {name: {"accuracy": c / t, "answers": t} for name, (c, t) in per_question.items()},
        }
    return result


def speed(times_ms: Iterable[int]) -> dict:
    """Median seconds per item and the count."""
    times = [t for t in times_ms if t is not None]
    return {"count": len(times), "median_s": (median(times) / 1000) if times else None}
