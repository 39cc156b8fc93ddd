"""Preference pairs people load elsewhere (Parquet, a Hugging Face `datasets` folder) and bring back: the JSONL
export re-imports as items carrying both answers (chosen as the reference answer, rejected in metadata)."""
import io
import json
import zipfile

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from labelstudio_app.projects.models import Item
from labelstudio_app.review import services
from tests.factories import ProjectFactory
from tests.projects.factories import import_text
from tests.review.factories import lease, review_setup

pytestmark = pytest.mark.django_db
TEXTS = [(f"甲：用 TensorRT 部署 a{i}", f"乙：先转 ONNX b{i}") for i in range(4)]


@pytest.fixture
def judged(world):
    """A round of four comparisons: two decisive judgments (left, right), a tie and a both-bad."""
    mv_a, mv_b, items = review_setup(world.project, n_items=4, texts=TEXTS)
    for i, item in enumerate(items):
        Item.objects.filter(pk=item.pk).update(
            text=f"怎么把模型部署到 TX2？第 {i} 个", task_type="deployment / edge",
            context=[{"sender": "张三", "text": "mmpose 支持吗", "time": "2024-03-01 09:00:00"}])
    rnd = services.round_create(project=world.project, user=world.users["manager"], name="偏好", model_a=mv_a,
                                model_b=mv_b, items=items, overlap=1)
    prefs = iter(["left", "right", "tie", "both_bad"])
    for c in rnd.comparisons.order_by("id"):
        lease(c, world.users["reviewer"])
        services.judgment_submit(comparison=c, user=world.users["reviewer"],
                                 scores={k: 4 for k in services.SCORE_FIELDS}, preference=next(prefs))
    return rnd


def _get(client, name, world, rnd):
    r = client.get(reverse(name, kwargs={"project_id": world.project.pk, "round_id": rnd.pk}))
    assert r.status_code == 200, r.content
    return b"".join(r.streaming_content)


def _jsonl_rows(client, world, rnd):
    return [json.loads(line) for line in _get(client, "round-export", world, rnd).decode().splitlines()]


def test_parquet_holds_the_same_pairs_as_the_jsonl(judged, world, client_as):
    client = client_as(world.users["manager"])
    rows = _jsonl_rows(client, world, judged)
    assert len(rows) == 2
    table = pq.read_table(io.BytesIO(_get(client, "round-export-parquet", world, judged)))
    assert table.to_pylist() == rows
    assert rows[0]["prompt"].startswith("怎么把模型部署到 TX2？") and rows[0]["chosen"].startswith(("甲", "乙"))


def test_a_datasets_folder_of_pairs_loads_with_load_from_disk(judged, world, api_as, tmp_path):
    datasets = pytest.importorskip("datasets")
    api = api_as(world.users["manager"])
    r = api.get(reverse("api-round-export-hf", kwargs={"project_id": world.project.pk, "round_id": judged.pk}))
    assert r.status_code == 200 and r["Content-Disposition"].endswith('.hf.zip"')
    with zipfile.ZipFile(io.BytesIO(b"".join(r.streaming_content))) as zf:
        zf.extractall(tmp_path)
    ds = datasets.load_from_disk(str(tmp_path / f"preferences-round-{judged.pk}"))
    rows = [json.loads(line) for line in b"".join(
        api.get(reverse("api-round-export", kwargs={"project_id": world.project.pk, "round_id": judged.pk}))
        .streaming_content).decode().splitlines()]
    assert ds.to_list() == rows
    assert ds.features["chosen_scores"]["helpfulness"].dtype == "int64"


def test_exported_pairs_import_back_as_items_with_both_answers(judged, world, client_as):
    rows = _jsonl_rows(client_as(world.users["manager"]), world, judged)
    target = ProjectFactory(name="偏好回流")
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    job = import_text(target, world.users["admin"], "preferences.jsonl", text)
    assert job.state == "succeeded", job.error
    assert job.result["format"] == "auto"
    items = list(Item.objects.filter(project=target).order_by("id"))
    assert [(i.text, i.reference_answer, i.metadata["rejected"]) for i in items] == [
        (r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    assert [(i.task_type, i.external_id) for i in items] == [(r["task_type"], r["external_id"]) for r in rows]
    assert items[0].context == [{"sender": "A", "text": "mmpose 支持吗", "time": "2024-03-01 09:00:00"}]
    assert items[0].metadata["chosen_model"] == rows[0]["chosen_model"]


@pytest.mark.parametrize("line,expected", [
    ('{"prompt": "怎么部署？", "chosen": "用 ONNX", "rejected": 3}',
     "line 1: field 'rejected' must be a string, got number"),
    ('{"prompt": "怎么部署？", "chosen": "", "rejected": "不知道"}', "line 1: field 'chosen' is empty"),
])
def test_a_bad_pair_is_refused_naming_the_line_and_field(world, line, expected):
    target = ProjectFactory()
    job = import_text(target, world.users["admin"], "pairs.jsonl", line + "\n", fmt="preference")
    assert job.state == "failed" and expected in job.error, job.error
    assert not Item.objects.filter(project=target).exists()
