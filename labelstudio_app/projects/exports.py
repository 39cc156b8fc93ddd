"""Export rows as text chunks: items with final labels (JSONL / CSV) and SFT rows (alpaca / ShareGPT /
OpenAI chat). Constant memory: the queryset is read with `.iterator(chunk_size=2000)` and rows are
yielded in small joined chunks, whatever the size of the project.

The same rows also go to a Parquet file or a Hugging Face `datasets` folder (`container`, core.columnar):
items (format jsonl or csv) and each SFT format, with one fixed column type per field."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa

from labelstudio_app.core.columnar import COLUMNAR_CONTAINERS, write_columnar
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.sft import SFT_FORMATS, compile_template, sft_format_row, sft_messages

EXPORT_FORMATS = ("jsonl", "csv", "alpaca", "sharegpt", "openai")
SCOPES = ("labelled", "all")
CONTAINERS = ("native", *COLUMNAR_CONTAINERS)  # native: the format's own text file
EXTENSIONS = {"jsonl": "jsonl", "csv": "csv", "alpaca": "json", "sharegpt": "jsonl", "openai": "jsonl"}
CONTAINER_EXTENSIONS = {"parquet": "parquet", "hf": "hf.zip"}
CONTENT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8",
                 "json": "application/json; charset=utf-8"}
CSV_COLUMNS = ["id", "external_id", "text", "task_type", "status", "reference_answer", "context", "final_values"]
CHUNK_ROWS = 500
ITEM_FIELDS = ["id", "external_id", "text", "context", "task_type", "reference_answer", "status", "final_values",
               "is_gold", "metadata"]


def export_queryset(*, project: Project, scope: str = "labelled"):
    items = Item.objects.filter(project=project).only(*ITEM_FIELDS).order_by("id")
    if scope == "labelled":
        items = items.filter(final_values__isnull=False)
    return items


def export_filename(*, project: Project, fmt: str, suffix: str = "", container: str = "native") -> str:
    extension = CONTAINER_EXTENSIONS.get(container) or EXTENSIONS[fmt]
    return f"project-{project.pk}-{fmt}{suffix}.{extension}"


def content_type(fmt: str) -> str:
    return CONTENT_TYPES[EXTENSIONS[fmt]]


def _item_row(item: Item) -> dict:
    return {"id": item.pk, "external_id": item.external_id, "text": item.text, "context": item.context,
            "task_type": item.task_type, "reference_answer": item.reference_answer, "status": item.status,
            "is_gold": item.is_gold, "final_values": item.final_values, "metadata": item.metadata}


def export_chunks(*, project: Project, fmt: str, scope: str = "labelled",
                  on_rows: Callable[[int], None] | None = None) -> Iterator[str]:
    """Text chunks of the whole export. `on_rows(n)` is called after each chunk with the rows so far
    (a job reports progress there; it may raise to stop)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
    if fmt in SFT_FORMATS:
        compile_template(project.training_template)  # a broken template fails before the first byte
    items = export_queryset(project=project, scope=scope).iterator(chunk_size=2000)
    rows = 0
    buffer: list[str] = []
    if fmt == "csv":
        yield "\ufeff" + _csv_line(CSV_COLUMNS)  # a BOM so spreadsheet programs read CJK text right
    if fmt == "alpaca":
        yield "["
    for item in items:
        line = _line(project, item, fmt, first=rows == 0)
        if line is None:
            continue
        buffer.append(line)
        rows += 1
        if len(buffer) >= CHUNK_ROWS:
            yield "".join(buffer)
            buffer.clear()
            if on_rows:
                on_rows(rows)
    if buffer:
        yield "".join(buffer)
    if fmt == "alpaca":
        yield "\n]\n"
    if on_rows:
        on_rows(rows)


def _line(project: Project, item: Item, fmt: str, *, first: bool) -> str | None:
    if fmt == "jsonl":
        return json.dumps(_item_row(item), ensure_ascii=False) + "\n"
    if fmt == "csv":
        return _csv_line([item.pk, item.external_id, item.text, item.task_type, item.status, item.reference_answer,
                          json.dumps(item.context, ensure_ascii=False),
                          "" if item.final_values is None else json.dumps(item.final_values, ensure_ascii=False)])
    messages = sft_messages(project=project, item=item)
    if messages is None:
        return None
    row = sft_format_row(messages=messages, fmt=fmt, task_type=item.task_type,
                         extra={"id": item.external_id or str(item.pk)})
    text = json.dumps(row, ensure_ascii=False)
    if fmt == "alpaca":
        return ("\n" if first else ",\n") + text
    return text + "\n"


def _csv_line(values: list) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(values)
    return out.getvalue()


# ---- columnar: Parquet and Hugging Face datasets ---------------------------------------------------------

_TURN = pa.struct([("sender", pa.string()), ("text", pa.string()), ("time", pa.string())])
_ROW_TAIL = [("task_type", pa.string()), ("id", pa.string())]
COLUMNAR_SCHEMAS = {
    # final_values and metadata have no fixed shape: JSON text (null when an item has no final label)
    "items": pa.schema([("id", pa.int64()), ("external_id", pa.string()), ("text", pa.string()),
                        ("context", pa.list_(_TURN)), ("task_type", pa.string()),
                        ("reference_answer", pa.string()), ("status", pa.string()), ("is_gold", pa.bool_()),
                        ("final_values", pa.string()), ("metadata", pa.string())]),
    "alpaca": pa.schema([("instruction", pa.string()), ("input", pa.string()), ("output", pa.string()),
                         ("system", pa.string()), *_ROW_TAIL]),
    "sharegpt": pa.schema([("conversations", pa.list_(pa.struct([("from", pa.string()), ("value", pa.string())]))),
                           *_ROW_TAIL]),
    "openai": pa.schema([("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
                         *_ROW_TAIL]),
}


def _columnar_kind(fmt: str) -> str:
    return fmt if fmt in SFT_FORMATS else "items"


def _turns(context) -> list[dict]:
    turns = []
    for turn in context or []:
        turn = turn if isinstance(turn, dict) else {"text": turn}
        turns.append({key: str(turn.get(key) or "") for key in ("sender", "text", "time")})
    return turns


def _item_columns(item: Item) -> dict:
    row = _item_row(item)
    row["context"] = _turns(item.context)
    row["final_values"] = None if item.final_values is None else json.dumps(item.final_values, ensure_ascii=False)
    row["metadata"] = json.dumps(item.metadata or {}, ensure_ascii=False)
    return row


def export_rows(*, project: Project, fmt: str, scope: str = "labelled") -> Iterator[dict]:
    """The export's rows as dicts: an item row for jsonl / csv, the SFT row otherwise (rows the template
    drops are skipped, as in the text export)."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")
    if fmt in SFT_FORMATS:
        compile_template(project.training_template)
    for item in export_queryset(project=project, scope=scope).iterator(chunk_size=2000):
        if fmt not in SFT_FORMATS:
            yield _item_columns(item)
            continue
        messages = sft_messages(project=project, item=item)
        if messages is not None:
            yield sft_format_row(messages=messages, fmt=fmt, task_type=item.task_type,
                                 extra={"id": item.external_id or str(item.pk)})


def export_columnar(*, project: Project, fmt: str, container: str, path: Path, scope: str = "labelled",
                    folder: str = "data", on_rows: Callable[[int], None] | None = None) -> int:
    """Writes the export to `path` as Parquet or a zipped `datasets` folder named `folder`; returns the rows."""
    return write_columnar(export_rows(project=project, fmt=fmt, scope=scope), container=container,
                          schema=COLUMNAR_SCHEMAS[_columnar_kind(fmt)], path=path, folder=folder, on_rows=on_rows)
