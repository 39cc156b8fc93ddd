"""Label Studio exports, in the three shapes Label Studio writes:

- `labelstudio` (JSON): a list of tasks `{"id", "data": {"text" | "question", ...}, "annotations": [{"id",
  "completed_by", "result": [{"from_name", "type", "value"}]}], "predictions": [...]}`;
- `labelstudio_min` (JSON_MIN): one flat row per annotation, the task's data keys plus one key per control,
  `id` (the task, repeated on each of its rows), `annotator` (an e-mail or a numeric id) and `annotation_id`;
  a task without annotations is one row without control keys;
- `labelstudio_csv` (CSV): the JSON_MIN rows as a table, lists and objects as JSON inside the cells.

A task becomes one item (its id the external id). Each annotation becomes an annotation of its annotator
(`Record.annotations`, stored by the import job), its results mapped onto the schema by `labelstudio_values`.
Predictions become the item's suggestions (`metadata["suggestions"]`), never labels.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _

from labelstudio_app.projects.importers import items
from labelstudio_app.projects.importers.base import Record, Report, type_name
from labelstudio_app.projects.importers.fields import BadRecord, plain_record
from labelstudio_app.projects.importers.labelstudio_values import Mapper

JSON, MIN, CSV = "labelstudio", "labelstudio_min", "labelstudio_csv"
ROW_FORMATS = (MIN, CSV)
# Columns Label Studio adds to a JSON_MIN / CSV row besides the task's data and the controls.
ROW_META_KEYS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time", "agreement")
MIN_SIGNATURE = ("annotation_id", "annotator")  # a row with either is a JSON_MIN / CSV row


def looks_like_min_row(obj) -> bool:
    return isinstance(obj, dict) and "data" not in obj and any(k in obj for k in MIN_SIGNATURE)


# ---- annotators ---------------------------------------------------------------------------------------------

def _annotator(raw, *, what: str) -> dict:
    """`completed_by` / `annotator` -> {"id": int | None, "email": str}: a numeric id, an e-mail, or an object
    with either (the JSON export writes `{"id": 17, "email": ...}` when it knows the e-mail)."""
    if isinstance(raw, dict):
        ident, email = raw.get("id"), raw.get("email") or ""
    elif isinstance(raw, str) and "@" in raw:
        ident, email = None, raw
    else:
        ident, email = raw, ""
    if isinstance(ident, str) and ident.strip().isdigit():
        ident = int(ident.strip())
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, int)):
        raise BadRecord(_("%(what)s: annotator %(value)r is neither an e-mail nor a numeric id")
                        % {"what": what, "value": str(raw)[:80]})
    if not isinstance(email, str) or len(email) > 254 or (email and "@" not in email):
        raise BadRecord(_("%(what)s: annotator e-mail %(value)r is not an e-mail address")
                        % {"what": what, "value": str(email)[:80]})
    if ident is None and not email:
        raise BadRecord(_("%(what)s: no annotator ('completed_by' / 'annotator')") % {"what": what})
    return {"id": ident, "email": email.strip().lower()}


def annotator_key(annotator: dict) -> str:
    """One annotator of one Label Studio instance: the e-mail when known, else the numeric id."""
    return annotator["email"] or f"#{annotator['id']}"


def _lead_time_ms(value) -> int:
    """Label Studio's `lead_time` (seconds spent) as milliseconds; 0 when absent or not a number."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return 0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10**7:
        return 0
    return int(value * 1000)


def _add_annotation(rec: Record, *, annotator: dict, values: dict, line: int, what: str, report: Report,
                    lead_time=None) -> None:
    """An annotation with nothing left after the mapping (every control ignored, an empty result) is dropped
    and counted: stored, it would fill a slot of the overlap and could settle the item with an empty label."""
    if not values:
        report.drop("ls_empty_annotation")
        return
    key = annotator_key(annotator)
    if any(annotator_key(a["annotator"]) == key for a in rec.annotations):
        raise BadRecord(_("%(what)s: annotator %(annotator)s already annotated this task; an annotator gives one "
                          "annotation per item") % {"what": what, "annotator": key}, line=line)
    rec.annotations.append({"annotator": annotator, "values": values, "line": line,
                            "time_spent_ms": _lead_time_ms(lead_time)})


# ---- JSON: tasks with annotations ---------------------------------------------------------------------------

def _task_id(obj: dict) -> str:
    value = obj.get("id")
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadRecord(_("field 'id' must be a string or an integer, got %(type)s") % {"type": type_name(value)})
    return str(value)[:200]


def task_to_record(obj, line: int, *, mapper: Mapper, report: Report) -> Record:
    if not isinstance(obj, dict):
        raise BadRecord(_("expected a task object, got %(type)s") % {"type": type_name(obj)})
    if "data" not in obj:
        raise BadRecord("missing field 'data'")
    data = obj["data"]
    if not isinstance(data, dict):
        raise BadRecord(_("field 'data' must be an object, got %(type)s") % {"type": type_name(data)})
    try:
        rec = plain_record(data, line)
    except BadRecord as exc:
        raise BadRecord(_("in 'data': %(error)s") % {"error": exc}) from None
    rec.external_id = rec.external_id or _task_id(obj)
    annotations = obj.get("annotations", obj.get("completions")) or []
    if not isinstance(annotations, list):
        raise BadRecord(_("field 'annotations' must be a list, got %(type)s") % {"type": type_name(annotations)})
    for i, ann in enumerate(annotations, start=1):
        what = _("annotation %(id)s") % {"id": ann.get("id", i) if isinstance(ann, dict) else i}
        if not isinstance(ann, dict):
            raise BadRecord(_("%(what)s must be an object") % {"what": what})
        if ann.get("was_cancelled") or ann.get("skipped"):
            report.drop("ls_cancelled")
            continue
        values = mapper.from_results(ann.get("result", []), what=what)
        _add_annotation(rec, annotator=_annotator(ann.get("completed_by"), what=what), values=values, line=line,
                        what=what, report=report, lead_time=ann.get("lead_time"))
    suggestions = _suggestions(obj.get("predictions") or [], mapper=mapper)
    if suggestions:
        rec.metadata["suggestions"] = suggestions
    return rec


def _suggestions(predictions, *, mapper: Mapper) -> dict:
    """The predictions' answers, the first prediction winning per question: hints for the annotator."""
    if not isinstance(predictions, list):
        raise BadRecord(_("field 'predictions' must be a list, got %(type)s") % {"type": type_name(predictions)})
    out: dict = {}
    for i, prediction in enumerate(predictions, start=1):
        what = _("prediction %(id)s") % {"id": prediction.get("id", i) if isinstance(prediction, dict) else i}
        if not isinstance(prediction, dict):
            raise BadRecord(_("%(what)s must be an object") % {"what": what})
        values = mapper.from_results(prediction.get("result", []), what=what)
        out.update({k: v for k, v in values.items() if k not in out})
    return out


# ---- JSON_MIN and CSV: one row per annotation ---------------------------------------------------------------

def group_rows(pairs: Iterable[tuple[int, object]]) -> Iterator[tuple[int, object]]:
    """Groups consecutive rows of one task (the same `id`) into one object `{"rows": [(line, row), ...],
    "repeat_of": line}`; `repeat_of` is the line where a task id that comes back after other tasks was first
    read (0 otherwise), so its record is refused naming both lines."""
    first_line: dict[str, int] = {}
    current, group = None, None
    for line, obj in pairs:
        key = _row_key(obj)
        if group and key is not None and key == current:
            group["rows"].append((line, obj))
            continue
        if group:
            yield group["rows"][0][0], group
        group, current = {"rows": [(line, obj)], "repeat_of": first_line.get(key, 0)}, key
        if key is not None:
            first_line.setdefault(key, line)
    if group:
        yield group["rows"][0][0], group


def _row_key(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    value = obj.get("id")
    return None if value is None or value == "" else str(value)


def rows_to_record(group, line: int, *, mapper: Mapper, report: Report, csv: bool) -> Record:
    rows = group["rows"]
    if group["repeat_of"]:
        raise BadRecord(_("task %(id)s was already read at line %(first)s; the rows of one task must be next to "
                          "each other") % {"id": _row_key(rows[0][1]), "first": group["repeat_of"]})
    first = rows[0][1]
    if not isinstance(first, dict):
        raise BadRecord(_("expected an object, got %(type)s") % {"type": type_name(first)})
    controls = [k for k in first if mapper.is_control(k)]
    data = {k: v for k, v in first.items() if k not in controls and k not in ROW_META_KEYS}
    if csv:
        data = {k: v for k, v in data.items() if v != ""}
    rec = (items.csv_to_record if csv else plain_record)(data, line)
    rec.external_id = rec.external_id or _task_id(first)
    for row_line, row in rows:
        if not isinstance(row, dict):
            raise BadRecord(_("expected an object, got %(type)s") % {"type": type_name(row)}, line=row_line)
        try:
            _row_annotation(rec, row, row_line, mapper=mapper, report=report, csv=csv)
        except BadRecord as exc:
            raise BadRecord(str(exc), line=exc.line or row_line) from None
    return rec


def _csv_cell(value: str):
    """Label Studio writes lists and objects into CSV cells as JSON, and one choice or one text as it is;
    a text that merely starts with a bracket stays text."""
    if value.strip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            pass
    return value


def _present(value) -> bool:
    return value is not None and value != "" and value != []


def _row_annotation(rec: Record, row: dict, line: int, *, mapper: Mapper, report: Report, csv: bool) -> None:
    controls = [k for k in row if mapper.is_control(k) and _present(row[k])]
    if not controls and not _present(row.get("annotator")) and not _present(row.get("annotation_id")):
        return  # a task without annotations
    if csv:
        row = {**row, **{k: _csv_cell(row[k]) for k in controls}}
    ident = row.get("annotation_id")
    what = _("annotation %(id)s") % {"id": ident} if _present(ident) else _("the annotation")
    values = mapper.from_row(row, controls, what=what)
    _add_annotation(rec, annotator=_annotator(row.get("annotator"), what=what), values=values, line=line, what=what,
                    report=report, lead_time=row.get("lead_time"))


def builder(fmt: str, container: str, *, schema: list | None, mapping: dict | None, report: Report):
    """The record builder of one Label Studio shape: `build(obj, line) -> Record`. Row shapes read the
    objects that `group_rows` makes; CSV cells are strings, with JSON inside for lists and objects."""
    mapper = Mapper(schema or [], mapping, report.controls)
    if fmt == JSON:
        return lambda obj, line: task_to_record(obj, line, mapper=mapper, report=report)
    csv = container == "csv"
    return lambda group, line: rows_to_record(group, line, mapper=mapper, report=report, csv=csv)


def to_record(obj, line: int) -> Record:
    """A task without a schema to map onto (parse_text callers that pass none): annotations are refused."""
    return task_to_record(obj, line, mapper=Mapper([]), report=Report())
