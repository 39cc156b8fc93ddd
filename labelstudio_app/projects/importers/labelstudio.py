"""A Label Studio JSON export: a list of tasks `{"id", "data": {"text" | "question", ...}, "annotations"}`.
`data` is read like a plain item; the task id becomes the external id; annotations and predictions are
kept in metadata (`ls_annotations`, `ls_predictions`) but not imported as annotations."""
from labelstudio_app.projects.importers.base import Record, type_name
from labelstudio_app.projects.importers.fields import BadRecord, plain_record


def to_record(obj, line: int) -> Record:
    if not isinstance(obj, dict):
        raise BadRecord(f"expected a task object, got {type_name(obj)}")
    if "data" not in obj:
        raise BadRecord("missing field 'data'")
    data = obj["data"]
    if not isinstance(data, dict):
        raise BadRecord(f"field 'data' must be an object, got {type_name(data)}")
    try:
        rec = plain_record(data, line)
    except BadRecord as exc:
        raise BadRecord(f"in 'data': {exc}") from None
    if not rec.external_id and obj.get("id") is not None:
        if isinstance(obj["id"], bool) or not isinstance(obj["id"], (int, str)):
            raise BadRecord(f"field 'id' must be a string or an integer, got {type_name(obj['id'])}")
        rec.external_id = str(obj["id"])[:200]
    for key in ("annotations", "predictions"):
        if obj.get(key):
            rec.metadata[f"ls_{key}"] = obj[key]
    return rec
