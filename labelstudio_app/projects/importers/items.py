"""Plain items (JSONL, a JSON list or CSV): `text` or `question`, optional `external_id`/`id`, `task_type`,
`context`, `answer`/`reference_answer`; every other field goes to metadata."""
from labelstudio_app.projects.importers.base import Record
from labelstudio_app.projects.importers.containers import csv_json_cell
from labelstudio_app.projects.importers.fields import plain_record


def to_record(obj, line: int) -> Record:
    return plain_record(obj, line)


def csv_to_record(row: dict, line: int) -> Record:
    row = dict(row)
    if "context" in row:
        row["context"] = csv_json_cell(row["context"], "context") if row["context"].strip() else []
    for key in ("external_id", "id", "task_type", "answer", "reference_answer"):
        if key in row and row[key] == "":
            row[key] = None
    return plain_record(row, line)
