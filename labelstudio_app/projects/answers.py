"""How a stored answer reads: question labels and option labels from the project's schema, not raw values."""


def values_readable(schema: list[dict], values: dict | None) -> list[tuple[str, str]]:
    """(question label, answer as text) for showing an annotation to a reviewer."""
    values = values or {}
    out = []
    for question in schema:
        value = values.get(question["name"])
        if "options" in question:
            labels = {o["value"]: o["label"] for o in question["options"]}
            picked = value if isinstance(value, list) else ([value] if value else [])
            text = ", ".join(labels.get(v, str(v)) for v in picked)
        else:
            text = "" if value is None else str(value)
        out.append((question.get("label") or question["name"], text))
    return out
