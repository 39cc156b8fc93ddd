"""Alpaca records: `instruction` (the item text), optional `input` (kept as a one-turn context) and
`output` (the reference answer); `task_type` and `id` are read, every other field goes to metadata."""
from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.base import Record, type_name
from labelstudio_app.projects.importers.fields import BadRecord, external_id, opt_str, req_str, task_type

KNOWN = {"instruction", "input", "output", "task_type", "id", "external_id"}


def to_record(obj, line: int) -> Record:
    if not isinstance(obj, dict):
        raise BadRecord(_("expected an object, got %(type)s") % {"type": type_name(obj)})
    text = req_str(obj, "instruction")
    extra = opt_str(obj, "input")
    return Record(
        text=text, line=line, external_id=external_id(obj), task_type=task_type(obj),
        context=[{"sender": "", "text": extra, "time": ""}] if extra.strip() else [],
        reference_answer=opt_str(obj, "output"),
        metadata={k: v for k, v in obj.items() if k not in KNOWN},
    )
