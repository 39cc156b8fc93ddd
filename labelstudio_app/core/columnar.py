"""Rows (dicts) -> a Parquet file, or a Hugging Face `datasets` folder as `save_to_disk` writes it, zipped.

Both with pyarrow alone: the web process never imports `datasets`. The folder holds

    <name>/data-00000-of-00001.arrow    the rows, as an Arrow IPC *stream* (what `save_to_disk` writes)
    <name>/dataset_info.json            the features (column types) in `datasets`' JSON form
    <name>/state.json                   the shard list and the (empty) format

so `datasets.load_from_disk("<name>")` reads it after unzipping. Rows are written in batches of BATCH_ROWS,
so memory stays flat whatever the export's size. Every column has a fixed type (the caller's schema): a
value of a free shape (labels, metadata) is given as JSON text.
"""
from __future__ import annotations

import json
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 2000
HF_DATA_FILE = "data-00000-of-00001.arrow"
COLUMNAR_CONTAINERS = ("parquet", "hf")
_VALUE_DTYPES = {pa.string(): "string", pa.int64(): "int64", pa.bool_(): "bool", pa.float64(): "float64"}


def _batches(rows: Iterable[dict], schema: pa.Schema, on_rows: Callable[[int], None] | None
             ) -> Iterator[pa.RecordBatch]:
    it = iter(rows)
    done = 0
    while chunk := list(islice(it, BATCH_ROWS)):
        done += len(chunk)
        yield pa.RecordBatch.from_pylist(chunk, schema=schema)
        if on_rows:
            on_rows(done)


def write_parquet(rows: Iterable[dict], *, schema: pa.Schema, path: Path | BinaryIO,
                  on_rows: Callable[[int], None] | None = None) -> int:
    """Writes the rows to `path` (or an open binary file) as one Parquet file; returns how many."""
    count = 0
    with pq.ParquetWriter(str(path) if isinstance(path, Path) else path, schema) as writer:
        for batch in _batches(rows, schema, on_rows):
            writer.write_batch(batch)
            count += batch.num_rows
    return count


def hf_feature(dtype: pa.DataType):
    """An Arrow type in `datasets`' feature JSON. Lists use the plain-list form, which every `datasets`
    version reads (the newer {"_type": "List"} is unknown before 4.0)."""
    if pa.types.is_list(dtype):
        return [hf_feature(dtype.value_type)]
    if pa.types.is_struct(dtype):
        return {dtype.field(i).name: hf_feature(dtype.field(i).type) for i in range(dtype.num_fields)}
    return {"dtype": _VALUE_DTYPES[dtype], "_type": "Value"}


def hf_features(schema: pa.Schema) -> dict:
    return {field.name: hf_feature(field.type) for field in schema}


def _hf_schema(schema: pa.Schema) -> pa.Schema:
    """The schema with the metadata `datasets` itself stores in the Arrow file (its features)."""
    info = {"info": {"features": hf_features(schema)}}
    return schema.with_metadata({"huggingface": json.dumps(info, ensure_ascii=False)})


def write_hf_zip(rows: Iterable[dict], *, schema: pa.Schema, path: Path | BinaryIO, folder: str,
                 on_rows: Callable[[int], None] | None = None) -> int:
    """Writes a zip holding `folder/` in the `save_to_disk` layout; returns how many rows."""
    schema = _hf_schema(schema)
    info = {"citation": "", "description": "", "features": hf_features(schema), "homepage": "", "license": ""}
    state = {"_data_files": [{"filename": HF_DATA_FILE}], "_fingerprint": uuid.uuid4().hex[:16],
             "_format_columns": None, "_format_kwargs": {}, "_format_type": None, "_output_all_columns": False,
             "_split": None}
    count = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # force_zip64: the stream's size is not known in advance and may pass 4 GB
        with zf.open(f"{folder}/{HF_DATA_FILE}", "w", force_zip64=True) as out, \
                pa.ipc.new_stream(out, schema) as writer:
            for batch in _batches(rows, schema, on_rows):
                writer.write_batch(batch)
                count += batch.num_rows
        zf.writestr(f"{folder}/dataset_info.json", json.dumps(info, ensure_ascii=False, indent=2))
        zf.writestr(f"{folder}/state.json", json.dumps(state, indent=2))
    return count


def write_columnar(rows: Iterable[dict], *, container: str, schema: pa.Schema, path: Path | BinaryIO,
                   folder: str = "data",
                   on_rows: Callable[[int], None] | None = None) -> int:
    if container == "parquet":
        return write_parquet(rows, schema=schema, path=path, on_rows=on_rows)
    if container == "hf":
        return write_hf_zip(rows, schema=schema, path=path, folder=folder, on_rows=on_rows)
    raise ValueError(f"unknown columnar container {container!r}; use one of {', '.join(COLUMNAR_CONTAINERS)}")
