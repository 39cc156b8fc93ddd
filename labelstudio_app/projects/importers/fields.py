"""Field validation shared by the record formats: every problem names the field and what is wrong."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.base import Record, Report, type_name

TEXT_KEYS = ("text", "question")
ID_KEYS = ("external_id", "id")
ANSWER_KEYS = ("reference_answer", "answer")
MAX_TEXT_CHARS = 100_000


class BadRecord(Exception):
    """One record is unusable; the message names the field. `line` names another line than the record's
    first (a Label Studio JSON_MIN task spans one row per annotation)."""

    def __init__(self, message: str, *, line: int | None = None):
        super().__init__(message)
        self.line = line


def opt_str(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(_("field '%(key)s' must be a string, got %(type)s") % {"key": key, "type": type_name(value)})
    return value


def req_str(obj: dict, key: str, *, what: str | None = None) -> str:
    if key not in obj or obj[key] is None:
        raise BadRecord(_("missing field '%(key)s' (%(what)s)") % {"key": key, "what": what} if what
                        else _("missing field '%(key)s'") % {"key": key})
    value = opt_str(obj, key)
    if not value.strip():
        raise BadRecord(_("field '%(key)s' is empty") % {"key": key})
    if len(value) > MAX_TEXT_CHARS:
        raise BadRecord(_("field '%(key)s' is longer than %(n)s characters") % {"key": key, "n": MAX_TEXT_CHARS})
    return value


def first_key(obj: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        if key in obj and obj[key] is not None:
            return key
    return None


def external_id(obj: dict) -> str:
    key = first_key(obj, ID_KEYS)
    if key is None:
        return ""
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRecord(_("field '%(key)s' must be a string or an integer, got %(type)s")
                        % {"key": key, "type": type_name(value)})
    value = str(value)
    if len(value) > 200:
        raise BadRecord(_("field '%(key)s' is longer than 200 characters") % {"key": key})
    return value


def task_type(obj: dict) -> str:
    value = opt_str(obj, "task_type").strip()
    if len(value) > 200:
        raise BadRecord("field 'task_type' is longer than 200 characters")
    return value


def context(value: Any, key: str = "context") -> list[dict]:
    """A context is a list of turns: strings, or objects with `text` and optional `sender` / `time`."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [{"sender": "", "text": value, "time": ""}]
    if not isinstance(value, list):
        raise BadRecord(_("field '%(key)s' must be a list of turns, got %(type)s") % {"key": key, "type": type_name(value)})
    turns = []
    for i, turn in enumerate(value):
        if isinstance(turn, str):
            turns.append({"sender": "", "text": turn, "time": ""})
            continue
        if not isinstance(turn, dict):
            raise BadRecord(_("field '%(key)s' turn %(turn)s must be a string or an object, got %(type)s")
                            % {"key": key, "turn": i + 1, "type": type_name(turn)})
        out = {}
        for part in ("sender", "text", "time"):
            v = turn.get(part, "")
            if v is None:
                v = ""
            if not isinstance(v, str):
                raise BadRecord(_("field '%(key)s' turn %(turn)s: '%(part)s' must be a string, got %(type)s")
                                % {"key": key, "turn": i + 1, "part": part, "type": type_name(v)})
            out[part] = v
        turns.append(out)
    return turns


def plain_record(obj: Any, line: int, *, used: tuple[str, ...] = ()) -> Record:
    """A plain item: `text` or `question`, optional id, task_type, context, answer; the rest is metadata."""
    if not isinstance(obj, dict):
        raise BadRecord(_("expected an object, got %(type)s") % {"type": type_name(obj)})
    key = first_key(obj, TEXT_KEYS)
    text = req_str(obj, key or "text", what="or 'question'" if key is None else None)
    answer_key = first_key(obj, ANSWER_KEYS)
    rec = Record(
        text=text, line=line, external_id=external_id(obj), task_type=task_type(obj),
        context=context(obj.get("context")),
        reference_answer=opt_str(obj, answer_key) if answer_key else "",
    )
    known = {*TEXT_KEYS, *ID_KEYS, *ANSWER_KEYS, "task_type", "context", *used}
    rec.metadata = {k: v for k, v in obj.items() if k not in known and k != key}
    return rec


def _where(key: str | None) -> str:
    return "metadata" if key is None else _("field '%(key)s'") % {"key": key}


def _storable(value, key: str | None) -> None:
    """The database cannot store NUL characters or lone surrogates (e.g. from a JSON "\\ud800" escape). `key`
    names the field in the message (None: the metadata, above its keys). This runs on every string of every
    record, so the message is built only when one is refused."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRecord(_("%(where)s contains a NUL character (\\u0000), which cannot be stored")
                            % {"where": _where(key)})
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRecord(_("%(where)s contains an invalid unicode escape (a lone surrogate)")
                            % {"where": _where(key)}) from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _storable(k, key)
            _storable(v, k if key is None else key)
    elif isinstance(value, list):
        for v in value:
            _storable(v, key)


def emit(report: Report, line: int, build, obj) -> Record | None:
    """Runs `build(obj, line)`; a BadRecord becomes an error on `line`."""
    try:
        record = build(obj, line)
        for name in ("text", "external_id", "task_type", "reference_answer", "context"):
            _storable(getattr(record, name), name)
        _storable(record.metadata, None)
        return record
    except BadRecord as exc:
        report.error(exc.line or line, str(exc))
        return None
