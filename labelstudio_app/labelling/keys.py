"""The labelling page's keys for one schema: one structure that the key handler (static/js/labelling.js reads it
as JSON) and the help overlay are both built from, so the help cannot list a key that does nothing.

- option keys come from the schema (single choice, multi choice, flags) and work anywhere on the page;
- a task-type or rating question has no keys of its own in the schema, so it gets a letter that picks it
  (the first free one of QUESTION_KEY_POOL); while it is picked the number keys belong to it: a task type
  takes its top level (alphabetical), then its second level; a rating takes the score itself (only points 0-9 have a key).
"""
from labelstudio_app.labelling.forms import FIELD_PREFIX
from labelstudio_app.projects.schema import OPTION_KINDS, RESERVED_KEYS, TASK_TYPE_SEPARATOR

QUESTION_KEY_POOL = "tgjklhqweryiopadfzxcvbnm"  # letters, "t" first for the task type; never s or u (page keys)
NUMBER_KEYS = "123456789"


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


def _rating_points(question: dict) -> list[dict]:
    return [{"key": str(v), "value": str(v)} for v in range(question["min"], question["max"] + 1) if 0 <= v <= 9]


def page_keys(schema: list[dict], *, has_item: bool = True, can_skip: bool = True) -> dict:
    """{"page": [page actions that work], "options": [...], "questions": [...]} for this schema and card."""
    page = ["?", "u", "Escape"]
    if not has_item:
        return {"page": page, "options": [], "questions": []}
    page += ["Enter"] + (["s"] if can_skip else [])
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
            entry = {"points": _rating_points(question)}
        else:
            continue
        if not free or not any(entry.values()):
            continue  # no letter left (or nothing to key): the question is answered by Tab and the mouse
        questions.append({"key": free.pop(0), "name": question["name"], "field": FIELD_PREFIX + question["name"], "kind": kind,
                          "question": question.get("label") or question["name"], **entry})
    return {"page": page, "options": options, "questions": questions}


def keys_by_question(keys: dict) -> dict[str, dict]:
    """The picking entry of each keyed task-type or rating question, by question name (for the widgets)."""
    return {q["name"]: q for q in keys["questions"]}
