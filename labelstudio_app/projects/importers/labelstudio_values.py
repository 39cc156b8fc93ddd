"""Label Studio results -> answers to the project's schema questions. Pure: no database.

A control (a result's `from_name`, or a JSON_MIN / CSV column) maps to the question of the same name, or to
the one the `mapping` option names (`null` ignores the control). Each result type fills the kinds it fits:

    choices   -> single_choice (exactly one), multi_choice, flags   (option value, else option label)
    taxonomy  -> task_type   (["A"] -> "A", ["A", "B"] -> "A / B"; exactly one path)
    textarea  -> text        (several lines are joined with a newline)
    rating    -> rating
    pairwise  -> refused: the label schema has no pairwise kind (answers are compared in review rounds)

Every refusal names the control and the value, so the line error tells a manager what to fix.
"""
from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.fields import BadRecord
from labelstudio_app.projects.schema import LIST_KINDS, TASK_TYPE_SEPARATOR, annotation_validate

# Result type -> the key of its `value` object, and the question kinds it can fill.
RESULT_KEYS = {"choices": "choices", "taxonomy": "taxonomy", "textarea": "text", "rating": "rating",
               "pairwise": "selected"}
FITS = {"choices": ("single_choice", "multi_choice", "flags"), "taxonomy": ("task_type",),
        "textarea": ("text",), "rating": ("rating",), "pairwise": ()}
VALUE_KEYS = {key: kind for kind, key in RESULT_KEYS.items()}  # a JSON_MIN value object's key -> result type


def _show(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


class Mapper:
    """Turns one annotation's results into `{question name: value}` for `schema`, following `mapping`."""

    def __init__(self, schema: list[dict], mapping: dict | None = None, controls: dict | None = None):
        self.questions = {q["name"]: q for q in schema or []}
        self.schema = schema or []
        self.mapping = mapping or {}
        self.controls = controls if controls is not None else {}  # what the preview shows: control -> question

    def note(self, control: str) -> str | None:
        """Records the control for the preview's mapping table; returns the question name it maps to."""
        name = self.mapping.get(control, control)
        self.controls.setdefault(control, name if name is None or name in self.questions else None)
        return name

    def target(self, control: str) -> dict | None:
        """The question a control fills; None when the mapping ignores it. Raises BadRecord when it fills none."""
        name = self.note(control)
        if name is None:
            return None
        if name not in self.questions:
            raise BadRecord(_("control '%(control)s' matches no question of the project's label schema; map it "
                              "to a question, or to null to ignore it") % {"control": control})
        return self.questions[name]

    def is_control(self, key: str) -> bool:
        """Whether a JSON_MIN / CSV column holds a control (rather than task data)."""
        return key in self.mapping or key in self.questions

    # ---- one control's value -------------------------------------------------------------------------

    def answer(self, control: str, rtype: str | None, payload, *, values: dict) -> None:
        """Adds the control's answer to `values`. `rtype` is the result type (None in JSON_MIN / CSV, where
        the question's kind decides how the value reads)."""
        if rtype == "pairwise" and self.note(control) is not None:
            raise BadRecord(_("control '%(control)s' is a pairwise comparison (selected %(value)s); the label "
                              "schema has no pairwise question kind (compare answers in a review round), so map "
                              "it to null to ignore it") % {"control": control, "value": _show(payload)})
        question = self.target(control)
        if question is None:
            return
        kind = question["kind"]
        if rtype is not None and kind not in FITS.get(rtype, ()):
            raise BadRecord(_("control '%(control)s' (%(type)s) cannot fill question '%(question)s' (%(kind)s)")
                            % {"control": control, "type": rtype, "question": question["name"], "kind": kind})
        where = {"control": control, "question": question["name"], "value": _show(payload)}
        if kind in ("single_choice", *LIST_KINDS):
            value = self._choices(question, payload, where)
        elif kind == "task_type":
            value = self._task_type(payload, where)
        elif kind == "text":
            value = self._text(payload, where)
        else:
            value = self._rating(payload, where)
        try:
            annotation_validate(schema=[question], values={question["name"]: value})
        except ValidationError as exc:
            message = "; ".join(m.split(": ", 1)[-1] for m in exc.messages)
            raise BadRecord(_("control '%(control)s' value %(value)s does not fit question '%(question)s': "
                              "%(message)s") % {**where, "message": message}) from None
        values[question["name"]] = value

    def _choices(self, question: dict, payload, where: dict):
        picked = [payload] if isinstance(payload, str) else payload
        if not isinstance(picked, list) or not all(isinstance(v, str) for v in picked):
            raise BadRecord(_("control '%(control)s' value %(value)s is not a list of choices") % where)
        by_label = {o["label"]: o["value"] for o in question["options"]}
        allowed = {o["value"] for o in question["options"]}
        out = []
        for choice in picked:
            if choice not in allowed and choice not in by_label:
                raise BadRecord(_("control '%(control)s' value '%(choice)s' is not an option of question "
                                  "'%(question)s'") % {**where, "choice": _show(choice)})
            out.append(choice if choice in allowed else by_label[choice])
        if question["kind"] == "single_choice":
            if len(out) != 1:
                raise BadRecord(_("control '%(control)s' gives %(count)s choices (%(value)s); question "
                                  "'%(question)s' takes one") % {**where, "count": len(out)})
            return out[0]
        return out

    def _task_type(self, payload, where: dict) -> str:
        if isinstance(payload, str):
            return payload
        paths = payload if isinstance(payload, list) and payload and isinstance(payload[0], list) else [payload]
        if len(paths) != 1:
            raise BadRecord(_("control '%(control)s' gives %(count)s taxonomy paths (%(value)s); question "
                              "'%(question)s' takes one") % {**where, "count": len(paths)})
        path = paths[0]
        if not isinstance(path, list) or not 1 <= len(path) <= 2 or not all(isinstance(p, str) for p in path):
            raise BadRecord(_("control '%(control)s' value %(value)s is not a taxonomy path of one or two "
                              "levels") % where)
        return TASK_TYPE_SEPARATOR.join(path)

    def _text(self, payload, where: dict) -> str:
        lines = [payload] if isinstance(payload, str) else payload
        if not isinstance(lines, list) or not all(isinstance(v, str) for v in lines):
            raise BadRecord(_("control '%(control)s' value %(value)s is not text") % where)
        return "\n".join(lines)

    def _rating(self, payload, where: dict) -> int:
        if isinstance(payload, str) and payload.strip().isdigit():
            payload = int(payload.strip())
        if isinstance(payload, float) and payload.is_integer():
            payload = int(payload)
        if not isinstance(payload, int) or isinstance(payload, bool):
            raise BadRecord(_("control '%(control)s' value %(value)s is not a whole-number rating") % where)
        return payload

    # ---- whole annotations -----------------------------------------------------------------------------

    def from_results(self, results, *, what: str) -> dict:
        """A JSON export's `result` list -> values. `what` names the annotation in errors."""
        if not isinstance(results, list):
            raise BadRecord(_("%(what)s: 'result' must be a list") % {"what": what})
        for r in results:  # every control reaches the preview's table, even after a bad one
            if isinstance(r, dict) and isinstance(r.get("from_name"), str):
                self.note(r["from_name"])
        values: dict = {}
        for r in results:
            if not isinstance(r, dict) or not isinstance(r.get("from_name"), str) or not isinstance(
                    r.get("value"), dict):
                raise BadRecord(_("%(what)s: every result needs 'from_name' and a 'value' object") % {"what": what})
            control, rtype = r["from_name"], str(r.get("type", "")).lower()
            if rtype not in RESULT_KEYS:
                if self.target(control) is None:
                    continue
                raise BadRecord(_("control '%(control)s' has type '%(type)s', which cannot be imported; map it "
                                  "to null to ignore it") % {"control": control, "type": _show(rtype)})
            if RESULT_KEYS[rtype] not in r["value"]:
                raise BadRecord(_("control '%(control)s': a %(type)s result needs value.%(key)s")
                                % {"control": control, "type": rtype, "key": RESULT_KEYS[rtype]})
            self.answer(control, rtype, r["value"][RESULT_KEYS[rtype]], values=values)
        return self.complete(values, what=what)

    def from_row(self, row: dict, controls: list[str], *, what: str) -> dict:
        """A JSON_MIN / CSV row's control columns -> values."""
        values: dict = {}
        for control in controls:
            rtype, payload = min_value(row[control])
            self.answer(control, rtype, payload, values=values)
        return self.complete(values, what=what)

    def complete(self, values: dict, *, what: str) -> dict:
        """The whole answer checked as a submission would be (required questions)."""
        try:
            return annotation_validate(schema=self.schema, values=values)
        except ValidationError as exc:
            raise BadRecord(_("%(what)s: %(message)s") % {"what": what, "message": "; ".join(exc.messages)}) from None


def min_value(value) -> tuple[str | None, object]:
    """A JSON_MIN value as Label Studio writes it -> (result type or None, payload). One choice or one text is
    a plain string; several are `{"choices": [...]}` / `{"text": [...]}`; other types are a list of value
    objects, e.g. `[{"rating": 4}]`, `[{"taxonomy": [["A", "B"]]}]`, `[{"selected": "left"}]`."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        merged: dict = {}
        for part in value:
            for key, inner in part.items():
                if key in VALUE_KEYS and isinstance(inner, list) and isinstance(merged.get(key), list):
                    merged[key] = merged[key] + inner
                else:
                    merged[key] = inner
        value = merged
    if isinstance(value, dict):
        known = [k for k in value if k in VALUE_KEYS]
        if len(known) == 1:
            return VALUE_KEYS[known[0]], value[known[0]]
    return None, value
