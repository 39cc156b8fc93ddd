"""Export: items with final labels as JSONL / CSV, SFT rows through the training template; streamed;
constant memory."""
import csv
import io
import json
import tracemalloc

import pytest

from labelstudio_app.projects import services
from labelstudio_app.projects.exports import export_chunks
from labelstudio_app.projects.models import Item
from labelstudio_app.projects.sft import sft_format_row, sft_messages, template_validate
from tests.factories import ItemFactory, ProjectFactory
from tests.projects.factories import run_inline

TEMPLATE = {"system": "你是标注助手。",
            "instruction": "判断下面的问题是否需要结合上下文才能理解。\n{context}\n问题：{text}",
            "output": "{label:needs_context|需要|不需要}"}
SCHEMA = [{"name": "needs_context", "kind": "single_choice"}, {"name": "rewrite", "kind": "text"}]


@pytest.fixture
def labelled(db):
    project = ProjectFactory(label_schema=SCHEMA, training_template=TEMPLATE)
    ctx = [{"sender": "张三", "text": "mmpose 支持吗", "time": ""}, {"sender": "李四", "text": "支持", "time": ""}]
    a = ItemFactory(project=project, text="怎么把它部署到 TX2？", context=ctx, task_type="deployment / edge",
                    final_values={"needs_context": "yes", "rewrite": "怎么把 mmpose 部署到 TX2？"}, status="done")
    b = ItemFactory(project=project, text="LoRA 的 rank 应该怎么选？", context=[], task_type="concept",
                    final_values={"needs_context": "no", "rewrite": ""}, status="done")
    c = ItemFactory(project=project, text="哈哈哈", task_type="", final_values={"needs_context": "not_question"},
                    status="done")
    d = ItemFactory(project=project, text="还没标", task_type="usage / api")  # no final label
    return project, (a, b, c, d)


def export(project, fmt, scope="labelled"):
    return "".join(export_chunks(project=project, fmt=fmt, scope=scope))


def test_it_exports_items_with_final_labels_as_jsonl(labelled):
    project, (a, b, c, d) = labelled
    rows = [json.loads(line) for line in export(project, "jsonl").splitlines()]
    assert [r["id"] for r in rows] == [a.pk, b.pk, c.pk]
    assert rows[0]["final_values"]["needs_context"] == "yes" and rows[0]["task_type"] == "deployment / edge"
    assert rows[0]["context"][0]["text"] == "mmpose 支持吗"
    everything = [json.loads(line) for line in export(project, "jsonl", "all").splitlines()]
    assert [r["id"] for r in everything] == [a.pk, b.pk, c.pk, d.pk] and everything[-1]["final_values"] is None


def test_it_exports_csv_that_spreadsheets_read(labelled):
    project, (a, *_rest) = labelled
    text = export(project, "csv")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 3 and rows[0]["text"] == a.text and rows[0]["task_type"] == "deployment / edge"
    assert json.loads(rows[0]["final_values"])["rewrite"] == "怎么把 mmpose 部署到 TX2？"


def test_it_exports_sft_rows_in_each_format_through_the_template(labelled):
    project, _items = labelled
    alpaca = json.loads(export(project, "alpaca"))
    assert [r["output"] for r in alpaca] == ["需要", "不需要"]  # "not_question" has no mapping: not a training row
    assert [r["task_type"] for r in alpaca] == ["deployment / edge", "concept"]
    assert alpaca[0]["instruction"] == "判断下面的问题是否需要结合上下文才能理解。\nA: mmpose 支持吗\nB: 支持\n问题：怎么把它部署到 TX2？"
    assert alpaca[0]["system"] == "你是标注助手。" and alpaca[0]["input"] == ""
    sharegpt = [json.loads(x) for x in export(project, "sharegpt").splitlines()]
    assert [[t["from"] for t in r["conversations"]] for r in sharegpt] == [["system", "human", "gpt"]] * 2
    assert sharegpt[1]["conversations"][2]["value"] == "不需要" and sharegpt[1]["task_type"] == "concept"
    openai = [json.loads(x) for x in export(project, "openai").splitlines()]
    assert openai[0]["messages"][-1] == {"role": "assistant", "content": "需要"}
    assert "张三" not in json.dumps(openai, ensure_ascii=False)  # senders anonymised in the prompt


def test_it_keeps_the_sft_contract_for_training_snapshots(labelled):
    project, (a, b, _c, d) = labelled
    assert sft_messages(project=project, item=d) is None  # no final label, no values
    msgs = sft_messages(project=project, item=d, values={"needs_context": "no"})
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"] and msgs[-1]["content"] == "不需要"
    project.training_template = {"instruction": "改写为独立问题：{text}", "output": "{value:rewrite}"}
    assert sft_messages(project=project, item=a)[-1]["content"] == "怎么把 mmpose 部署到 TX2？"
    assert sft_messages(project=project, item=b) is None  # empty rewrite: not a training row
    row = sft_format_row(messages=msgs, fmt="openai", task_type="usage / api", extra={"id": "x"})
    assert row == {"messages": msgs, "task_type": "usage / api", "id": "x"}


def test_it_validates_the_training_template_with_clear_messages():
    assert template_validate(TEMPLATE, schema=SCHEMA) == []
    errors = template_validate({"instruction": "{txt}", "outptu": "x"}, schema=SCHEMA)
    assert any("unknown placeholder {txt}" in e for e in errors)
    assert "unknown key 'outptu' (use system, instruction, input, output)" in errors
    assert "missing key 'output'" in errors
    assert template_validate({"instruction": "{text", "output": "{value:nope}"}, schema=SCHEMA) == [
        "'instruction': unmatched '{' at character 1 (write {{ for a literal brace)",
        "'output': the label schema has no question named 'nope'"]


def test_it_runs_an_export_job_and_serves_the_file(labelled, client):
    from tests.factories import UserFactory

    project, _items = labelled
    admin = UserFactory(username="exporter", is_staff=True)
    job = run_inline(services.export_start(project=project, user=admin, fmt="sharegpt"))
    assert job.state == "succeeded" and job.result["rows"] == 2 and job.percent == 100
    client.force_login(admin)
    r = client.get(f"/projects/{project.pk}/export/{job.pk}/download/")
    assert r.status_code == 200
    body = b"".join(r.streaming_content).decode()
    assert [json.loads(x)["task_type"] for x in body.splitlines()] == ["deployment / edge", "concept"]


def test_it_streams_the_download_through_the_api(labelled, api_as):
    from tests.factories import UserFactory

    project, _items = labelled
    r = api_as(UserFactory(username="streamer", is_staff=True)).get(
        f"/api/projects/{project.pk}/exports/stream/?fmt=openai")
    assert r.status_code == 200 and r.streaming
    assert r["Content-Disposition"].endswith('.jsonl"')
    rows = [json.loads(x) for x in b"".join(r.streaming_content).decode().splitlines()]
    assert [x["messages"][-1]["content"] for x in rows] == ["需要", "不需要"]


def _bulk(project, n):
    from labelstudio_app.projects.importers import Record

    services.items_insert(project_id=project.pk, job_id=None, records=[
        Record(text=f"问题 {i}：怎么把它部署到 TX2？" * 3, task_type="deployment / edge",
               context=[{"sender": "张三", "text": "上下文" * 10, "time": ""}]) for i in range(n)])
    Item.objects.filter(project=project).update(final_values={"needs_context": "yes"})


def _peak(project, fmt):
    tracemalloc.start()
    total = 0
    for chunk in export_chunks(project=project, fmt=fmt):
        total += len(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, total


def test_it_exports_in_constant_memory(db):
    small, large = ProjectFactory(training_template=TEMPLATE), ProjectFactory(training_template=TEMPLATE)
    _bulk(small, 2_000)  # at least one full iterator chunk (2,000 rows), so the two compare like for like
    _bulk(large, 14_000)
    for fmt in ("jsonl", "sharegpt"):
        peak_small, size_small = _peak(small, fmt)
        peak_large, size_large = _peak(large, fmt)
        assert size_large > 6 * size_small
        assert peak_large < 1.5 * peak_small + 512 * 1024, (fmt, peak_small, peak_large)
