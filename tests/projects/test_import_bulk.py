"""The bulk import over the REST API: a batch posted as a JSON list or JSONL body, stored at once (or by a job
above the limits), exactly once per Idempotency-Key, all or nothing."""
import json
import time

import pytest
from django.urls import reverse

from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.models import Item
from tests.conftest import make_world, wait_for

JSONL = "application/x-ndjson"
PROMPT = "我们的 mmpose 模型能不能部署到 Jetson TX2 上？需要哪些步骤 🚀"
ANSWERS = [{"model": "base", "text": "可以。先把模型导出为 ONNX，再用 TensorRT 转换…"},
           {"model": "lora-1", "text": "Yes: export to ONNX, then build a TensorRT engine (FP16 on the TX2)."}]


@pytest.fixture
def world(db):
    return make_world()


def _rows(n, start=0):
    return [{"id": f"q{i}", "text": f"{PROMPT} #{i}", "task_type": "deployment / edge", "answers": ANSWERS}
            for i in range(start, start + n)]


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")


def _post(api, project, body: bytes, *, key=None, content_type=JSONL, fmt=None):
    url = reverse("api-import-bulk", kwargs={"project_id": project.pk}) + (f"?fmt={fmt}" if fmt else "")
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(url, data=body, content_type=content_type, **headers)


def test_it_stores_a_jsonl_batch_and_answers_the_new_ids_in_order(world, api_as):
    r = _post(api_as(world.users["manager"]), world.project, _jsonl(_rows(3)))
    assert r.status_code == 201, r.content
    body = r.json()
    items = list(Item.objects.filter(project=world.project).order_by("id"))
    assert body["stored"] == 3 and body["job"] is None and body["replayed"] is False
    assert body["ids"] == [i.pk for i in items] and (body["first_id"], body["last_id"]) == (items[0].pk, items[-1].pk)
    assert [i.external_id for i in Item.objects.filter(pk__in=body["ids"]).order_by("id")] == ["q0", "q1", "q2"]


def test_it_stores_a_json_list_body_the_same_way(world, api_as):
    r = _post(api_as(world.users["manager"]), world.project, json.dumps(_rows(2), ensure_ascii=False).encode(),
              content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["stored"] == 2 and Item.objects.filter(project=world.project).count() == 2


def test_it_round_trips_cjk_and_mixed_text_with_both_answers(world, api_as):
    api = api_as(world.users["manager"])
    rows = [{"text": "为什么 loss 不下降？我用的是 lr=2e-4，batch 8 😅", "answers": ANSWERS,
             "context": [{"sender": "张三", "text": "先看看数据：有没有重复？", "time": "2024-03-01 09:00:00"}]}]
    r = _post(api, world.project, _jsonl(rows))
    assert r.status_code == 201, r.content
    item = api.get(reverse("api-item-detail", kwargs={"project_id": world.project.pk, "item_id": r.json()["ids"][0]}))
    got = item.json()
    assert got["text"] == rows[0]["text"] and got["metadata"]["answers"] == ANSWERS
    assert Item.objects.get().context[0]["text"] == "先看看数据：有没有重复？"


def test_it_stores_a_resent_batch_exactly_once_and_answers_the_first_result(world, api_as):
    api = api_as(world.users["manager"])
    body = _jsonl(_rows(4))
    first = _post(api, world.project, body, key="batch-0001")
    again = _post(api, world.project, body, key="batch-0001")
    assert first.status_code == again.status_code == 201
    assert again.json()["replayed"] is True
    assert {**again.json(), "replayed": False} == first.json()
    assert Item.objects.filter(project=world.project).count() == 4
    other = _post(api, world.project, body, key="batch-0002")  # a new key is a new batch
    assert other.status_code == 201 and Item.objects.filter(project=world.project).count() == 8


def test_it_refuses_another_body_under_a_used_key_with_409(world, api_as):
    api = api_as(world.users["manager"])
    assert _post(api, world.project, _jsonl(_rows(2)), key="k-1").status_code == 201
    r = _post(api, world.project, _jsonl(_rows(2, start=10)), key="k-1")
    assert r.status_code == 409, r.content
    assert "k-1" in r.json()["detail"] and r.json()["errors"] == {}
    assert set(Item.objects.filter(project=world.project).values_list("external_id", flat=True)) == {"q0", "q1"}


def test_it_keeps_keys_per_project(world, api_as):
    from labelstudio_app.accounts.models import Membership
    from tests.factories import ProjectFactory

    other = ProjectFactory(name="另一个 other")
    Membership.objects.create(user=world.users["manager"], project=other, role="manager")
    api = api_as(world.users["manager"])
    assert _post(api, world.project, _jsonl(_rows(1)), key="same").status_code == 201
    r = _post(api, other, _jsonl(_rows(1, start=5)), key="same")
    assert r.status_code == 201 and r.json()["replayed"] is False


def test_it_refuses_the_whole_batch_with_every_bad_line_and_stores_nothing(world, api_as):
    api = api_as(world.users["manager"])
    lines = [json.dumps({"text": "第一个问题？"}, ensure_ascii=False), json.dumps({"question": None}),
             json.dumps({"text": "好的", "task_type": 7}, ensure_ascii=False), "{not json"]
    r = _post(api, world.project, ("\n".join(lines) + "\n").encode(), key="bad-1")
    assert r.status_code == 400, r.content
    body = r.json()
    assert "3 problem(s)" in body["detail"] and "nothing was imported" in body["detail"]
    assert body["errors"] == {
        "line 2": ["missing field 'text' (or 'question')"],
        "line 3": ["field 'task_type' must be a string, got number"],
        "line 4": [body["errors"]["line 4"][0]],
    }
    assert body["errors"]["line 4"][0].startswith("invalid JSON")
    assert Item.objects.filter(project=world.project).count() == 0
    # nothing was kept under the key either: the corrected batch goes through with it
    fixed = _post(api, world.project, _jsonl([{"text": "第一个问题？"}, {"text": "第二个？"}]), key="bad-1")
    assert fixed.status_code == 201 and fixed.json()["stored"] == 2


def test_it_names_the_line_of_a_bad_element_in_a_json_list(world, api_as):
    body = '[\n {"text": "一"},\n {"text": "二", "context": 5}\n]'.encode()
    r = _post(api_as(world.users["manager"]), world.project, body, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["errors"] == {"line 3": ["field 'context' must be a list of turns, got number"]}
    assert not Item.objects.exists()


def test_it_reads_the_other_record_formats_with_the_file_import_rules(world, api_as):
    api = api_as(world.users["manager"])
    pair = {"prompt": "怎么部署？", "chosen": "用 TensorRT。", "rejected": "不知道。"}
    r = _post(api, world.project, _jsonl([pair]))
    assert r.status_code == 201 and r.json()["format"] == "preference"
    item = Item.objects.get()
    assert (item.text, item.reference_answer, item.metadata["rejected"]) == ("怎么部署？", "用 TensorRT。", "不知道。")
    r = _post(api, world.project, _jsonl([{"prompt": "x", "chosen": "", "rejected": "y"}]))
    assert r.status_code == 400 and "chosen" in json.dumps(r.json()["errors"])


@pytest.mark.parametrize(("body", "content_type", "fmt", "where"), [
    (b"", JSONL, None, "detail"),
    (b"   \n", JSONL, None, "detail"),
    (b'{"text": "x"}\n', JSONL, "chatlog", "fmt"),
    (b'{"data": {"text": "x"}, "annotations": []}\n', JSONL, None, "detail"),
    (b'{"text": "x"}', "application/json", None, "detail"),
])
def test_it_refuses_bodies_it_cannot_read_with_a_clear_error(world, api_as, body, content_type, fmt, where):
    r = _post(api_as(world.users["manager"]), world.project, body, content_type=content_type, fmt=fmt)
    assert r.status_code == 400, r.content
    assert r.json()["detail"] and (where == "detail" or where in r.json()["errors"])
    assert "Traceback" not in r.content.decode()
    assert not Item.objects.exists()


def test_it_refuses_a_label_studio_export_over_the_byte_cap_too(world, api_as, settings):
    settings.BULK_SYNC_MB = 1
    task = {"data": {"text": "怎么部署？" * 100}, "annotations": []}
    r = _post(api_as(world.users["manager"]), world.project, _jsonl([task] * 1000))
    assert r.status_code == 400 and "Label Studio" in r.json()["detail"]
    assert not Job.objects.exists() and not Item.objects.exists()


def test_it_refuses_another_content_type_and_a_bad_key(world, api_as):
    api = api_as(world.users["manager"])
    assert _post(api, world.project, b"text,x\n", content_type="text/csv").status_code == 415
    r = _post(api, world.project, _jsonl(_rows(1)), key="has space")
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["errors"]
    assert not Item.objects.exists()


@pytest.mark.parametrize("persona", ["annotator", "reviewer", "outsider"])
def test_it_lets_only_managers_import(world, api_as, persona):
    r = _post(api_as(world.users[persona]), world.project, _jsonl(_rows(1)))
    assert r.status_code in (403, 404)
    assert not Item.objects.exists()


def test_it_asks_anonymous_clients_to_authenticate(world):
    from rest_framework.test import APIClient

    r = _post(APIClient(), world.project, _jsonl(_rows(1)))
    assert r.status_code in (401, 403) and not Item.objects.exists()


def test_it_bounds_the_batches_per_user(world, api_as, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_BULK_RATE = "2/min"
    api = api_as(world.users["manager"])
    codes = [_post(api, world.project, _jsonl(_rows(1, start=i))).status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert Item.objects.count() == 2


def test_it_refuses_a_body_over_the_upload_limit_before_reading_it(world, api_as, settings):
    settings.MAX_UPLOAD_MB = 1
    r = _post(api_as(world.users["manager"]), world.project, b'{"text": "x"}\n' * 160_000)
    assert r.status_code == 413 and not Item.objects.exists()


def test_it_documents_the_endpoint_in_the_openapi_schema(world, api_as):
    text = api_as(world.users["manager"]).get(reverse("api-schema")).content.decode()
    assert "/api/projects/{project_id}/imports/bulk/" in text
    assert "Idempotency-Key" in text and "application/x-ndjson" in text


# ---- above the synchronous limits: an import job in a real worker ---------------------------------------------

@pytest.mark.worker
def test_it_turns_a_batch_over_the_limit_into_a_job_that_starts_at_once(worker_process, api_as, settings):
    settings.BULK_SYNC_ITEMS = 5
    world = make_world()
    worker_process()
    api = api_as(world.users["manager"])
    t0 = time.monotonic()
    r = _post(api, world.project, _jsonl(_rows(12)), key="big-1")
    assert r.status_code == 202, r.content
    job_id = r.json()["job"]["id"]
    assert r.json()["stored"] == 0 and r.json()["job"]["kind"] == "import"
    assert Job.objects.get(pk=job_id).enqueued_at is not None  # sent to the broker on commit, not by a sweep
    job = wait_for(lambda: (j := Job.objects.get(pk=job_id)).is_finished and j, timeout=60, what="the import")
    assert job.state == "succeeded", job.error
    print(f"bulk job: answered to finished in {time.monotonic() - t0:.2f} s")
    assert Item.objects.filter(project=world.project, source_job_id=job_id).count() == 12
    again = _post(api, world.project, _jsonl(_rows(12)), key="big-1")
    assert again.status_code == 202 and again.json()["replayed"] is True
    assert again.json()["job"]["id"] == job_id and again.json()["job"]["state"] == "succeeded"
    assert Item.objects.filter(project=world.project).count() == 12


@pytest.mark.worker
def test_it_fails_a_job_batch_with_line_errors_and_stores_nothing(worker_process, api_as, settings):
    settings.BULK_SYNC_MB = 1  # over the byte cap the body goes to the job unread
    world = make_world()
    worker_process()
    rows = [*_rows(4000), {"text": "坏的", "task_type": 1}]
    r = _post(api_as(world.users["manager"]), world.project, _jsonl(rows))
    assert r.status_code == 202, r.content
    job = wait_for(lambda: (j := Job.objects.get(pk=r.json()["job"]["id"])).is_finished and j, timeout=60,
                   what="the import")
    assert job.state == "failed" and "line 4001: field 'task_type' must be a string, got number" in job.error
    assert not Item.objects.filter(project=world.project).exists()


def test_it_stores_once_when_two_requests_race_with_one_key(transactional_db, api_as):
    import threading

    from django.db import connection

    world = make_world()
    body = _jsonl(_rows(300))
    barrier, answers = threading.Barrier(2), []

    def post():
        api = api_as(world.users["manager"])
        barrier.wait()
        try:
            answers.append(_post(api, world.project, body, key="race-1"))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status_code for r in answers] == [201, 201]
    assert sorted(r.json()["replayed"] for r in answers) == [False, True]
    assert answers[0].json()["ids"] == answers[1].json()["ids"]
    assert Item.objects.filter(project=world.project).count() == 300
