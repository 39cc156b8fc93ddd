"""Exports people load elsewhere: items and SFT rows as Parquet (read back with pyarrow) and as a zipped
Hugging Face `datasets` folder (read back with datasets.load_from_disk); the rows equal the JSONL export's,
CJK text included."""
import json
import zipfile

import pyarrow.parquet as pq
import pytest

from labelstudio_app.projects import services
from labelstudio_app.projects.exports import COLUMNAR_SCHEMAS, export_chunks
from tests.factories import UserFactory
from tests.projects.factories import run_inline
from tests.projects.test_export import labelled  # noqa: F401  (the fixture)

KINDS = {"jsonl": "items", "alpaca": "alpaca", "sharegpt": "sharegpt", "openai": "openai"}


def _text_rows(project, fmt):
    text = "".join(export_chunks(project=project, fmt=fmt, scope="all"))
    rows = json.loads(text) if fmt == "alpaca" else [json.loads(line) for line in text.splitlines()]
    columns = COLUMNAR_SCHEMAS[KINDS[fmt]].names
    return [{name: row.get(name) for name in columns} for row in rows]


def _decoded(rows, fmt):
    """Columnar item rows hold labels and metadata as JSON text; the JSONL export holds them as objects."""
    if fmt == "jsonl":
        for row in rows:
            row["final_values"] = None if row["final_values"] is None else json.loads(row["final_values"])
            row["metadata"] = json.loads(row["metadata"])
    return rows


def _export(project, fmt, container):
    job = run_inline(services.export_start(project=project, user=UserFactory(is_staff=True), fmt=fmt, scope="all",
                                           container=container))
    assert job.state == "succeeded", job.error
    return job, services.export_file_path(job=job)


@pytest.mark.parametrize("fmt", KINDS)
def test_parquet_holds_the_same_rows_as_the_text_export(labelled, fmt):  # noqa: F811
    project, _items = labelled
    job, path = _export(project, fmt, "parquet")
    assert path.name.endswith(".parquet") and job.result["rows"] == len(_text_rows(project, fmt))
    table = pq.read_table(path)
    assert table.schema.names == COLUMNAR_SCHEMAS[KINDS[fmt]].names
    assert _decoded(table.to_pylist(), fmt) == _text_rows(project, fmt)


@pytest.mark.parametrize("fmt", KINDS)
def test_a_datasets_folder_loads_with_load_from_disk(labelled, fmt, tmp_path):  # noqa: F811
    datasets = pytest.importorskip("datasets")
    project, _items = labelled
    _job, path = _export(project, fmt, "hf")
    assert path.name.endswith(".hf.zip")
    with zipfile.ZipFile(path) as zf:
        folder = path.name.removesuffix(".hf.zip")
        assert sorted(zf.namelist()) == [f"{folder}/data-00000-of-00001.arrow", f"{folder}/dataset_info.json",
                                         f"{folder}/state.json"]
        zf.extractall(tmp_path)
    ds = datasets.load_from_disk(str(tmp_path / folder))
    assert ds.column_names == COLUMNAR_SCHEMAS[KINDS[fmt]].names
    assert _decoded(ds.to_list(), fmt) == _text_rows(project, fmt)


def test_the_openai_rows_carry_the_system_prompt_in_every_file(labelled, tmp_path):  # noqa: F811
    project, _items = labelled
    text = [json.loads(line) for line in "".join(export_chunks(project=project, fmt="openai")).splitlines()]
    assert text[0]["messages"][0] == {"role": "system", "content": "你是标注助手。"}
    _job, path = _export(project, "openai", "parquet")
    assert {row["messages"][0]["content"] for row in pq.read_table(path).to_pylist()} == {"你是标注助手。"}


def test_cjk_items_round_trip_with_labels_and_context(labelled):  # noqa: F811
    project, _items = labelled
    _job, path = _export(project, "jsonl", "parquet")
    first = pq.read_table(path).to_pylist()[0]
    assert first["text"] == "怎么把它部署到 TX2？" and first["context"][0] == {"sender": "张三", "text": "mmpose 支持吗",
                                                                           "time": ""}
    assert json.loads(first["final_values"])["rewrite"] == "怎么把 mmpose 部署到 TX2？"


def test_an_unknown_file_type_is_refused_by_field(labelled):  # noqa: F811
    from django.core.exceptions import ValidationError

    project, _items = labelled
    with pytest.raises(ValidationError) as err:
        services.export_start(project=project, user=UserFactory(is_staff=True), fmt="jsonl", container="xlsx")
    assert "container" in err.value.message_dict


def test_the_api_starts_a_columnar_export_and_serves_it(labelled, api_as):  # noqa: F811
    from labelstudio_app.jobs.models import Job

    project, _items = labelled
    api = api_as(UserFactory(username="columnar", is_staff=True))
    r = api.post(f"/api/projects/{project.pk}/exports/", {"format": "sharegpt", "container": "parquet"},
                 format="json")
    assert r.status_code == 202, r.content
    job = run_inline(Job.objects.get(pk=r.json()["id"]))
    assert job.state == "succeeded", job.error
    download = api.get(f"/api/projects/{project.pk}/exports/{job.pk}/download/")
    assert download.status_code == 200 and download["Content-Disposition"].endswith('.parquet"')
    assert b"".join(download.streaming_content)[:4] == b"PAR1"
