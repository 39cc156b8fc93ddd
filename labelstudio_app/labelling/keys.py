"""The keys of the pages that show a schema's widgets (labelling, QA, the schema's preview): one structure that the
key handler (static/js/labelling.js reads it as JSON) and the help overlay are both built from, so the help cannot
list a key that does nothing.

- option keys come from the schema (single choice, multi choice, flags) and work anywhere on the page;
- a task-type or rating question has no keys of its own in the schema, so it gets a letter that picks it
  (the first free one of QUESTION_KEY_POOL); while it is picked the number keys belong to it: a task type
  takes its top level (alphabetical), then its second level; a rating takes the score typed as digits: a score
  that a further digit could lengthen (1 on a 1-12 scale: 10, 11, 12) is chosen at once and waits
  RATING_DIGIT_WINDOW_MS for that digit, as a TV remote does;
- the page's own keys depend on the page (PAGE_KEYS): labelling submits, skips and goes back; QA accepts or saves
  the fix with Enter; the preview only tries the answers out.
"""
from labelstudio_app.labelling.forms import FIELD_PREFIX
from labelstudio_app.projects.schema import OPTION_KINDS, RESERVED_KEYS, TASK_TYPE_SEPARATOR

QUESTION_KEY_POOL = "tgjklhqweryiopadfzxcvbnm"  # letters, "t" first for the task type; never s or u (page keys)
NUMBER_KEYS = "123456789"
RATING_DIGIT_WINDOW_MS = 1000
LABEL, QA, PREVIEW = "label", "qa", "preview"
PAGE_KEYS = {LABEL: ["?", "u", "Escape"], QA: ["?", "Escape"], PREVIEW: ["?", "Escape"]}


def _taken_keys(schema: list[dict]) -> set[str]:
    taken = {k.lower() for k in RESERVED_KEYS}
    for question in schema:
        for option in question.get("options", []):
            if option.get("key"):
                taken.add(option["key"].lower())
    return taken


def _task_type_levels(question: dict) -> list[dict]:
    # top levels in alphabetical order: the stored taxonomy (jsonb) does not keep the order it was written in
    levels = []
    for key, (level1, level2s) in zip(NUMBER_KEYS, sorted(question["taxonomy"].items())):
        subs = [{"key": k, "label": sub, "value": f"{level1}{TASK_TYPE_SEPARATOR}{sub}"}
                for k, sub in zip(NUMBER_KEYS, level2s)]
        levels.append({"key": key, "label": level1, "value": "" if level2s else level1, "subs": subs})
    return levels


def _rating_digits(question: dict) -> dict:
    """The score is typed: `digits` are the number keys that begin a score of the scale (the handler reads min
    and max to tell when a score is complete)."""
    low, high = question["min"], question["max"]
    starts = {str(v)[0] for v in range(low, high + 1)}
    return {"min": low, "max": high, "digits": sorted(starts), "window_ms": RATING_DIGIT_WINDOW_MS,
            "multi_digit": high > 9}


def page_keys(schema: list[dict], *, page: str = LABEL, has_item: bool = True, can_skip: bool = True) -> dict:
    """{"page": [page keys that work], "mode", "options": [...], "questions": [...]} for this schema and card.
    `has_item`: the card shows something to answer; `can_skip`: the labelling card may skip it."""
    keys = list(PAGE_KEYS[page])
    if not has_item:
        return {"mode": page, "page": keys, "options": [], "questions": []}
    if page == LABEL:
        keys += ["Enter"] + (["s"] if can_skip else [])
    elif page == QA:
        keys += ["Enter"]
    options, questions = [], []
    taken = _taken_keys(schema)
    free = [k for k in QUESTION_KEY_POOL if k not in taken]
    for question in schema:
        kind = question["kind"]
        if kind in OPTION_KINDS:
            options += [{"key": o["key"], "field": FIELD_PREFIX + question["name"], "value": o["value"], "label": o["label"],
                         "question": question.get("label") or question["name"], "toggles": kind != "single_choice"}
                        for o in question["options"] if o.get("key")]
            continue
        if kind == "task_type":
            entry = {"levels": _task_type_levels(question)}
        elif kind == "rating":
            entry = _rating_digits(question)
        else:
            continue
        if not free or not (entry.get("levels") or entry.get("digits")):
            continue  # no letter left (or nothing to key): the question is answered by Tab and the mouse
        questions.append({"key": free.pop(0), "name": question["name"], "field": FIELD_PREFIX + question["name"], "kind": kind,
                          "question": question.get("label") or question["name"], **entry})
    return {"mode": page, "page": keys, "options": options, "questions": questions}


def keys_by_question(keys: dict) -> dict[str, dict]:
    """The picking entry of each keyed task-type or rating question, by question name (for the widgets)."""
    return {q["name"]: q for q in keys["questions"]}
