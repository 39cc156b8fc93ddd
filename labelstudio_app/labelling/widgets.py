"""What the templates render for a schema: each question with its options and the current answer marked.
Presentation only (no database)."""
from labelstudio_app.labelling.forms import FIELD_PREFIX
from labelstudio_app.labelling.keys import keys_by_question
from labelstudio_app.projects.answers import values_readable
from labelstudio_app.projects.schema import LIST_KINDS, TASK_TYPE_SEPARATOR


def _task_type_choices(question: dict, current) -> list[dict]:
    choices = []
    for level1, level2s in question["taxonomy"].items():
        for value in ([f"{level1}{TASK_TYPE_SEPARATOR}{x}" for x in level2s] or [level1]):
            choices.append({"value": value, "label": value, "selected": value == current, "group": level1})
    return choices


def schema_widgets(schema: list[dict], values: dict | None = None,
                   errors: dict[str, list[str]] | None = None, keys: dict | None = None) -> list[dict]:
    """`keys` (labelling.keys.page_keys) adds the picking letter and number keys where the page's handler has them."""
    values, errors = values or {}, errors or {}
    picking = keys_by_question(keys) if keys else {}
    widgets = []
    for question in schema:
        name = question["name"]
        current = values.get(name)
        widget = {**question, "field": FIELD_PREFIX + name, "value": current if current is not None else "",
                  "error": " ".join(errors.get(name, []))}
        if "options" in question:
            chosen = set(current or []) if question["kind"] in LIST_KINDS else {current}
            widget["options"] = [{**o, "checked": o["value"] in chosen} for o in question["options"]]
        if question["kind"] == "task_type":
            widget["choices"] = _task_type_choices(question, current)
        if question["kind"] == "rating":
            widget["scale"] = [{"value": v, "checked": v == current} for v in range(question["min"], question["max"] + 1)]
        if name in picking:
            widget["pick"] = picking[name]
            for s in widget.get("scale", []):
                s["key"] = str(s["value"])  # typed digit by digit once the rating is picked
        widgets.append(widget)
    return widgets


def item_suggestions(schema: list[dict], item) -> list[tuple[str, str]]:
    """(question label, suggested answer) from an imported prediction (`metadata["suggestions"]`): a hint
    shown beside the form, never a label (nothing submits it)."""
    suggested = (item.metadata or {}).get("suggestions") if item is not None else None
    if not isinstance(suggested, dict) or not suggested:
        return []
    return [(label, text) for label, text in values_readable(schema, suggested) if text]
