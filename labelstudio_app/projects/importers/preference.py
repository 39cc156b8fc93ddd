"""Preference pairs, as the review round export writes them: `prompt` (the item text), `chosen` (kept as the
reference answer), `rejected` (kept in metadata), optional `context` (turns with `sender`, or the export's
anonymised `speaker`), `task_type`, `external_id`; every other field (scores, models, round) goes to metadata."""
from django.utils.translation import gettext as _

from labelstudio_app.projects.importers.base import Record, type_name
from labelstudio_app.projects.importers.fields import BadRecord, context, external_id, req_str, task_type

KNOWN = {"prompt", "chosen", "rejected", "context", "task_type", "external_id", "id"}


def _turns(value):
    """The export writes each turn's sender as its letter (`speaker`); a letter is a sender here too."""
    if not isinstance(value, list):
        return value
    return [{**turn, "sender": turn.get("speaker")} if isinstance(turn, dict) and "sender" not in turn else turn
            for turn in value]


def to_record(obj, line: int) -> Record:
    if not isinstance(obj, dict):
        raise BadRecord(_("expected an object, got %(type)s") % {"type": type_name(obj)})
    text = req_str(obj, "prompt")
    chosen = req_str(obj, "chosen")
    rejected = req_str(obj, "rejected")
    metadata = {k: v for k, v in obj.items() if k not in KNOWN}
    metadata["rejected"] = rejected
    return Record(text=text, line=line, external_id=external_id(obj), task_type=task_type(obj),
                  context=context(_turns(obj.get("context"))), reference_answer=chosen, metadata=metadata)
