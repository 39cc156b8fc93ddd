"""Approved items -> training rows: sources, filters, the mix recipe, the held-out split. Reads only.

Sources (each row keeps its item's task type and says where it came from):
- `final`:     items with a final label (status done), through the project's training template (`sft_messages`).
- `reference`: items with a gold / reference answer: the prompt a model is asked (`item_prompt_messages`) -> the answer.
- `winners`:   blind comparisons whose judgments prefer one candidate by a majority: prompt -> the winning text.

The recipe (validated by `recipe_clean`, stored on the snapshot):

    {"format": "openai", "sources": {"final": {"upsample": 1}, "reference": {}, "winners": {}},
     "ratios": {"final": 2, "reference": 1},          # optional: keep the sources in this proportion
     "task_types": ["deployment"],                     # optional: task type (or its top level) filter
     "task_type_upsample": {"short-answer": 3},        # optional: repeat rows of a task type (prefix match)
     "date_from": "2024-01-01", "date_to": "2024-12-31",   # optional: the item's creation date
     "heldout": {"fraction": 0.1} | {"n": 20},        # optional "by": "metadata.<key>" holds out whole groups
     "seed": 0}

The held-out items' own rows (prompt + answer) are kept apart, in a second immutable file, as the evaluation set.
Upsampling by a factor f repeats every row floor(f) times and a seeded draw of the fraction once more.
Ratios down-sample the larger sources (seeded) so the counts match the proportion; nothing is invented.
"""
import json
import math
import random
from collections import Counter, defaultdict
from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from labelstudio_app.projects.models import Item
from labelstudio_app.projects.sft import (
    RENDERER_VERSION,
    SFT_FORMATS,
    item_prompt_messages,
    sft_format_row,
    sft_messages,
)
from labelstudio_app.review.models import Comparison, Judgment

SOURCES = ("final", "reference", "winners")
MAX_UPSAMPLE = 100.0


def _number(value, field: str, *, minimum: float, maximum: float, integer: bool = False):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("%(v)r is not a number.") % {"v": value}}) from None
    if math.isnan(number) or not minimum <= number <= maximum:
        raise ValidationError({field: _("%(v)s must be between %(min)s and %(max)s.")
                               % {"v": value, "min": minimum, "max": maximum}})
    if integer:
        if not number.is_integer():
            raise ValidationError({field: _("%(v)s must be a whole number.") % {"v": value}})
        return int(number)
    return number


def _date(value, field: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ValidationError({field: _("%(v)r is not a date (YYYY-MM-DD).") % {"v": value}}) from None


def _heldout_clean(heldout: dict) -> dict:
    """{"fraction": f} or {"n": k}, optionally with "by": "metadata.<key>" or "task_type" (whole groups)."""
    if not isinstance(heldout, dict):
        heldout = {}
    by = str(heldout.get("by") or "").strip()
    size = {k: v for k, v in heldout.items() if k != "by"}
    if set(size) - {"fraction", "n"} or len(size) > 1 or (by and not size):
        raise ValidationError({"heldout": _("Give either {\"fraction\": 0.1} or {\"n\": 20}, optionally with "
                                            "\"by\": \"metadata.<key>\".")})
    if by and not (by == "task_type" or (by.startswith("metadata.") and by[len("metadata."):].strip())):
        raise ValidationError({"heldout.by": _("%(by)r is not a group; use \"metadata.<key>\" or \"task_type\".")
                               % {"by": by}})
    if "fraction" in size:
        size = {"fraction": _number(size["fraction"], "heldout.fraction", minimum=0, maximum=0.9)}
    elif "n" in size:
        size = {"n": _number(size["n"], "heldout.n", minimum=0, maximum=1_000_000, integer=True)}
    return {**size, "by": by} if by else size


def recipe_clean(recipe: dict | None) -> dict:
    """The recipe with defaults filled in, or ValidationError naming the field that is wrong."""
    recipe = dict(recipe or {})
    recipe.pop("renderer", None)  # recorded by the app, never chosen
    unknown = sorted(set(recipe) - {"format", "sources", "ratios", "task_types", "task_type_upsample", "date_from",
                                    "date_to", "heldout", "seed"})
    if unknown:
        raise ValidationError({"recipe": _("Unknown recipe key(s): %(k)s.") % {"k": ", ".join(unknown)}})
    fmt = recipe.get("format") or "openai"
    if fmt not in SFT_FORMATS:
        raise ValidationError({"format": _("%(f)r is not a format; use one of %(all)s.")
                               % {"f": fmt, "all": ", ".join(SFT_FORMATS)}})
    sources_in = recipe.get("sources") or {"final": {}}
    if isinstance(sources_in, list):
        sources_in = {s: {} for s in sources_in}
    sources = {}
    for name, opts in sources_in.items():
        if name not in SOURCES:
            raise ValidationError({"sources": _("Unknown source %(s)r; use %(all)s.")
                                   % {"s": name, "all": ", ".join(SOURCES)}})
        opts = opts or {}
        sources[name] = {"upsample": _number(opts.get("upsample", 1), f"sources.{name}.upsample",
                                             minimum=0.01, maximum=MAX_UPSAMPLE)}
    if not sources:
        raise ValidationError({"sources": _("Pick at least one source.")})
    ratios = {}
    for name, value in (recipe.get("ratios") or {}).items():
        if name not in sources:
            raise ValidationError({"ratios": _("Ratio for %(s)r, which is not a chosen source.") % {"s": name}})
        ratios[name] = _number(value, f"ratios.{name}", minimum=0.0001, maximum=1_000_000)
    task_types = [t.strip() for t in recipe.get("task_types") or [] if str(t).strip()]
    tt_up = {str(k).strip(): _number(v, f"task_type_upsample.{k}", minimum=0.01, maximum=MAX_UPSAMPLE)
             for k, v in (recipe.get("task_type_upsample") or {}).items() if str(k).strip()}
    date_from, date_to = _date(recipe.get("date_from"), "date_from"), _date(recipe.get("date_to"), "date_to")
    if date_from and date_to and date_from > date_to:
        raise ValidationError({"date_to": _("date_to is before date_from.")})
    heldout = _heldout_clean(recipe.get("heldout") or {})
    seed = _number(recipe.get("seed", 0), "seed", minimum=0, maximum=2**31 - 1, integer=True)
    return {"format": fmt, "sources": sources, "ratios": ratios, "task_types": task_types,
            "task_type_upsample": tt_up, "date_from": date_from, "date_to": date_to, "heldout": heldout,
            "seed": seed, "renderer": RENDERER_VERSION}


def _items(project, recipe: dict):
    qs = Item.objects.filter(project=project)
    if recipe["task_types"]:
        cond = Q()
        for t in recipe["task_types"]:
            cond |= Q(task_type=t) | Q(task_type__startswith=f"{t} /") | Q(task_type__startswith=f"{t}/")
        qs = qs.filter(cond)
    if recipe["date_from"]:
        qs = qs.filter(created_at__date__gte=recipe["date_from"])
    if recipe["date_to"]:
        qs = qs.filter(created_at__date__lte=recipe["date_to"])
    return qs


def _final_rows(project, items) -> list[dict]:
    rows = []
    for item in items.filter(status=Item.Status.DONE, final_values__isnull=False).order_by("id").iterator(2000):
        messages = sft_messages(project=project, item=item)
        if messages:
            rows.append({"item_id": item.pk, "task_type": item.task_type, "source": "final", "messages": messages})
    return rows


def _reference_rows(project, items) -> list[dict]:
    rows = []
    for item in items.exclude(reference_answer="").order_by("id").iterator(2000):
        if item.reference_answer.strip():
            messages = [*item_prompt_messages(project=project, item=item), {"role": "assistant", "content": item.reference_answer}]
            rows.append({"item_id": item.pk, "task_type": item.task_type, "source": "reference",
                         "messages": messages})
    return rows


def _winner_rows(project, items) -> list[dict]:
    """One row per comparison whose judgments prefer one model's candidate by a strict majority."""
    votes = (Judgment.objects.filter(comparison__round__project=project, comparison__item__in=items)
             .values("comparison_id")
             .annotate(total=Count("id"), a=Count("id", filter=Q(preference=Judgment.Preference.A)),
                       b=Count("id", filter=Q(preference=Judgment.Preference.B))))
    winners = {}
    for v in votes:
        if v["a"] * 2 > v["total"]:
            winners[v["comparison_id"]] = "a"
        elif v["b"] * 2 > v["total"]:
            winners[v["comparison_id"]] = "b"
    comparisons = (Comparison.objects.filter(pk__in=winners)
                   .select_related("item", "candidate_a", "candidate_b").order_by("id"))
    rows, seen = [], set()
    for c in comparisons:
        cand = c.candidate_a if winners[c.pk] == "a" else c.candidate_b
        if cand is None or not cand.text.strip() or (c.item_id, cand.text) in seen:
            continue  # side B empty is the reference answer: the `reference` source covers it
        seen.add((c.item_id, cand.text))
        messages = [*item_prompt_messages(project=project, item=c.item), {"role": "assistant", "content": cand.text}]
        rows.append({"item_id": c.item_id, "task_type": c.item.task_type, "source": "winners", "messages": messages,
                     "candidate_id": cand.pk})
    return rows


_BUILDERS = {"final": _final_rows, "reference": _reference_rows, "winners": _winner_rows}


def _upsample(rows: list, factor: float, rng: random.Random) -> list:
    whole, frac = int(factor), factor - int(factor)
    out = [r for r in rows for _ in range(whole)]
    if frac > 0 and rows:
        out += rng.sample(rows, round(len(rows) * frac))
    return out


def _apply_ratios(by_source: dict, ratios: dict, rng: random.Random) -> dict:
    if not ratios:
        return by_source
    scale = min(len(by_source[s]) / r for s, r in ratios.items())
    out = dict(by_source)
    for s, r in ratios.items():
        keep = min(len(by_source[s]), round(scale * r))
        out[s] = sorted(rng.sample(by_source[s], keep), key=lambda row: row["item_id"])
    return out


def _task_factor(task_type: str, table: dict) -> float:
    best = None
    for prefix, factor in table.items():
        matches = task_type == prefix or task_type.startswith((prefix.rstrip() + " /", prefix + "/"))
        if matches and (best is None or len(prefix) > len(best[0])):
            best = (prefix, factor)
    return best[1] if best else 1.0


def _group_of(item: dict, by: str) -> str | None:
    if by == "task_type":
        return item["task_type"] or ""
    value = (item["metadata"] or {}).get(by[len("metadata."):])
    return None if value in (None, "") else str(value)


def _heldout(item_ids: list[int], spec: dict, rng: random.Random) -> list[int]:
    """Seeded held-out items. With `by`, whole groups are held out (`fraction` / `n` count groups), so a group
    (e.g. a question template) is either seen in training or never; an item without the key is its own group."""
    if not spec or not item_ids:
        return []
    groups: dict[str, list[int]] = {}
    if spec.get("by"):
        for it in Item.objects.filter(pk__in=item_ids).values("id", "task_type", "metadata").order_by("id"):
            group = _group_of(it, spec["by"])
            groups.setdefault(f"#{it['id']}" if group is None else f"={group}", []).append(it["id"])
    else:
        groups = {f"#{i}": [i] for i in item_ids}
    names = sorted(groups)
    n = spec["n"] if "n" in spec else round(len(names) * spec["fraction"])
    held = sorted(i for name in rng.sample(names, min(n, len(names))) for i in groups[name])
    if len(held) >= len(item_ids):
        raise ValidationError({"heldout": _("Held-out %(n)s of %(total)s items leaves nothing to train on.")
                               % {"n": len(held), "total": len(item_ids)}})
    return held


def _heldout_rows(by_source: dict, held: set, fmt: str) -> list[dict]:
    """The held-out items' rows (prompt + answer), once each, in item order: the evaluation set."""
    rows, seen = [], set()
    for source_rows in by_source.values():
        for r in source_rows:
            key = (r["item_id"], json.dumps(r["messages"], ensure_ascii=False))
            if r["item_id"] in held and key not in seen:
                seen.add(key)
                rows.append(r)
    rows.sort(key=lambda r: (r["item_id"], r["source"]))
    return [sft_format_row(messages=r["messages"], fmt=fmt, task_type=r["task_type"],
                           extra={"source": r["source"], "item_id": r["item_id"]}) for r in rows]


def snapshot_rows_build(*, project, recipe: dict) -> dict:
    """Rows in the recipe's format plus the statistics stored on the snapshot. `recipe` must be clean."""
    rng = random.Random(recipe["seed"])
    items = _items(project, recipe)
    by_source = {name: _BUILDERS[name](project, items) for name in recipe["sources"]}
    heldout = _heldout(sorted({r["item_id"] for rows in by_source.values() for r in rows}), recipe["heldout"], rng)
    held = set(heldout)
    heldout_rows = _heldout_rows(by_source, held, recipe["format"])
    by_source = {s: [r for r in rows if r["item_id"] not in held] for s, rows in by_source.items()}
    by_source = _apply_ratios(by_source, recipe["ratios"], rng)
    mixed = []
    for name, rows in by_source.items():
        mixed += _upsample(rows, recipe["sources"][name]["upsample"], rng)
    if recipe["task_type_upsample"]:
        grouped = defaultdict(list)
        for r in mixed:
            grouped[_task_factor(r["task_type"], recipe["task_type_upsample"])].append(r)
        mixed = [r for factor, rows in grouped.items() for r in _upsample(rows, factor, rng)]
    mixed.sort(key=lambda r: (r["item_id"], r["source"]))
    rng.shuffle(mixed)
    out = [sft_format_row(messages=r["messages"], fmt=recipe["format"], task_type=r["task_type"],
                          extra={"source": r["source"], "item_id": r["item_id"]}) for r in mixed]
    return {
        "rows": out, "heldout_item_ids": heldout, "heldout_rows": heldout_rows,
        "task_type_histogram": dict(sorted(Counter(r["task_type"] or "" for r in mixed).items())),
        "source_histogram": dict(sorted(Counter(r["source"] for r in mixed).items())),
        "available": {s: len(rows) for s, rows in by_source.items()},
    }


def old_data_pick(rows: list[dict], *, fraction: float, seed: int, exclude_item_ids) -> list[dict]:
    """A seeded share of a parent run's snapshot rows to mix into a continued run ("old data mixed in"), never
    a row of an item held out of the new run. The service counts with it and the worker trains on it, so both
    see the same rows."""
    excluded = set(exclude_item_ids or ())
    pool = [row for row in rows if row.get("item_id") not in excluded]
    keep = round(len(pool) * fraction)
    return [pool[i] for i in sorted(random.Random(seed).sample(range(len(pool)), keep))]
