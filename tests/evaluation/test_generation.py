"""Generation jobs: creation rules, the handler run in-process against a real chat-completions server, the
item prompt, and the pages where managers (never reviewers) see candidates with tokens and latency."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from labelstudio_app.evaluation.models import Candidate, OutboundEndpoint
from labelstudio_app.evaluation.prompts import item_messages
from labelstudio_app.evaluation.services import generation_job_create
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from tests.evaluation.chat_server import ChatServer
from tests.evaluation.factories import CandidateFactory, ModelVersionFactory
from tests.factories import ItemFactory, ProjectFactory, UserFactory
from workers.context import JobContext
from workers.generation.backends import backends_close
from workers.generation.job import generation_run


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s
    backends_close()


def _openai_mv(project, server, name="served", **options):
    OutboundEndpoint.objects.update_or_create(name="chat-test", defaults={"base_url": server.base_url})
    return ModelVersionFactory(project=project, name=name, base_model="qwen-7b", backend="openai",
                               backend_options={"endpoint": "chat-test", "model": "qwen-7b", "max_retries": 0,
                                                **options})


def _run_inline(job):
    """Claims the job and runs its handler in this process, as the worker would."""
    claimed = job_services.job_claim(job_id=job.pk, worker="inline")
    ctx = JobContext(job=claimed, worker="inline")
    result = generation_run(ctx)
    job_services.job_finish(job_id=job.pk, worker="inline", state=Job.State.SUCCEEDED, result=result)
    return Job.objects.get(pk=job.pk)


def test_it_generates_missing_candidates_only(db, server):
    project, user = ProjectFactory(), UserFactory()
    mv = _openai_mv(project, server)
    items = [ItemFactory(project=project, text=f"问题 {i}", context=[]) for i in range(3)]
    job = generation_job_create(project=project, user=user, model_versions=[mv], items=items[:2], n_samples=2,
                                params={"seed": 5, "max_new_tokens": 16})
    done = _run_inline(job)
    assert {k: v for k, v in done.result.items() if k not in ("completion_tokens", "generate_seconds")} == {
        "total": 4, "generated": 4, "already_there": 0}
    assert done.result["completion_tokens"] > 0 and done.result["generate_seconds"] > 0
    assert done.progress_done == 4 and Candidate.objects.count() == 4
    assert {b["seed"] for _, b, _ in server.chat_requests()} == set(
        Candidate.objects.values_list("params__seed", flat=True))  # per-sample seeds reach the server
    c = Candidate.objects.filter(item=items[0], sample_index=0).get()
    assert c.text == "[qwen-7b] 答：问题 0" and c.completion_tokens == len(c.text) and c.finish_reason == "stop"
    # More items and samples later: only the gaps are generated.
    job2 = generation_job_create(project=project, user=user, model_versions=[mv], items=items, n_samples=3,
                                 params={"seed": 5, "max_new_tokens": 16})
    done2 = _run_inline(job2)
    assert done2.result["generated"] == 5 and done2.result["already_there"] == 4
    assert Candidate.objects.count() == 9 and len(server.chat_requests()) == 9


def test_it_stops_at_a_batch_boundary_when_cancelled(db, server):
    project, user = ProjectFactory(), UserFactory()
    mv = _openai_mv(project, server)
    items = [ItemFactory(project=project) for _ in range(6)]
    job = generation_job_create(project=project, user=user, model_versions=[mv], items=items, batch_size=2)
    claimed = job_services.job_claim(job_id=job.pk, worker="inline")
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    with pytest.raises(job_services.JobCancelled):
        generation_run(JobContext(job=claimed, worker="inline"))
    assert Candidate.objects.count() == 0


def _inserts_and_updates(job, checkpoint_seconds=None):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if checkpoint_seconds is not None:
        Job.objects.filter(pk=job.pk).update(params={**job.params, "checkpoint_seconds": checkpoint_seconds})
    claimed = job_services.job_claim(job_id=job.pk, worker="inline")
    with CaptureQueriesContext(connection) as queries:
        generation_run(JobContext(job=claimed, worker="inline"))
    sql = [q["sql"] for q in queries.captured_queries]
    return (len(sql), sum(s.startswith('INSERT INTO "evaluation_candidate"') for s in sql),
            sum(s.startswith('UPDATE "jobs_job" SET "heartbeat_at"') for s in sql))


def test_it_writes_and_reports_per_checkpoint_not_per_small_batch(db, server):
    """Fast batches are written together (one insert + one progress per checkpoint), so the number of
    queries does not grow with the number of batches; a slow model (checkpoint 0 here) writes every batch."""
    project = ProjectFactory()
    mv = _openai_mv(project, server)
    items = [ItemFactory(project=project, text=f"问题 {i}") for i in range(12)]

    def job(n, seed):
        return generation_job_create(project=project, user=None, model_versions=[mv], items=items[:n],
                                     params={"seed": seed}, batch_size=2)

    # a long checkpoint interval stands for "batches faster than the interval" even on a loaded machine
    small, large = _inserts_and_updates(job(4, 1), 3600), _inserts_and_updates(job(12, 2), 3600)
    assert small == large and large[1] == 1  # 2 batches or 6: the same queries, one candidate insert
    _, inserts, progress = _inserts_and_updates(job(12, 3), checkpoint_seconds=0)
    assert inserts == 6 and progress == 1 + 6  # the start, then every batch
    assert Candidate.objects.count() == 4 + 12 + 12


def test_it_records_the_server_error_on_a_refused_request(db, server):
    project, user = ProjectFactory(), UserFactory()
    mv = _openai_mv(project, server)
    server.script = ["400"]
    job = generation_job_create(project=project, user=user, model_versions=[mv], items=[ItemFactory(project=project)])
    claimed = job_services.job_claim(job_id=job.pk, worker="inline")
    with pytest.raises(Exception, match="HTTP 400"):
        generation_run(JobContext(job=claimed, worker="inline"))
    assert len(server.chat_requests()) == 1


def test_it_refuses_bad_generation_requests(db):
    project, other = ProjectFactory(), ProjectFactory()
    mv = ModelVersionFactory(project=project)
    vllm_mv = ModelVersionFactory(project=project, backend="vllm")
    item = ItemFactory(project=project)
    with pytest.raises(ValidationError, match="No items match"):
        generation_job_create(project=project, user=None, model_versions=[mv], items={"task_type": "nope"})
    with pytest.raises(ValidationError, match="not in this project"):
        generation_job_create(project=project, user=None, model_versions=[mv], items=[ItemFactory(project=other)])
    with pytest.raises(ValidationError, match="not in this project"):
        generation_job_create(project=project, user=None, model_versions=[ModelVersionFactory()], items=[item])
    with pytest.raises(ValidationError, match="no_repeat_ngram_size is not supported by the vllm backend"):
        generation_job_create(project=project, user=None, model_versions=[vllm_mv], items=[item],
                              params={"no_repeat_ngram_size": 3})
    with pytest.raises(ValidationError, match=r"n_samples|between 1"):
        generation_job_create(project=project, user=None, model_versions=[mv], items=[item], n_samples=0)
    with pytest.raises(ValidationError, match="task_type: contains a NUL character"):
        generation_job_create(project=project, user=None, model_versions=[mv], items={"task_type": "a\x00"})


def test_it_picks_items_by_task_type_and_status(db):
    project = ProjectFactory()
    mv = ModelVersionFactory(project=project)
    a = ItemFactory(project=project, task_type="reasoning / multi-step")
    ItemFactory(project=project, task_type="deployment / edge")
    b = ItemFactory(project=project, task_type="reasoning / multi-step", status="done")
    job = generation_job_create(project=project, user=None, model_versions=[mv],
                                items={"task_type": "reasoning / multi-step"}, n_samples=2)
    assert job.params["item_ids"] == [a.pk, b.pk] and job.progress_total == 4 and job.queue == "gpu"
    job = generation_job_create(project=project, user=None, model_versions=[mv],
                                items={"task_type": "reasoning / multi-step", "status": "done"},
                                then={"name": "review.round_open", "kwargs": {"round_id": 1}})
    assert job.params["item_ids"] == [b.pk] and job.params["then"]["name"] == "review.round_open"


def test_it_builds_the_prompt_from_the_template_or_the_context(db):
    project = ProjectFactory(prompt_template="上下文：\n{context}\n问题：{text}\n这个问题需要指代消解吗？{literal}")
    item = ItemFactory(project=project, text="它支持 {text} 吗？", context=[
        {"sender": "张三", "text": "mmpose 支持吗", "time": ""}, {"sender": "李四", "text": "哪个版本", "time": ""},
        {"sender": "张三", "text": "1.x", "time": ""}])
    [msg] = item_messages(project=project, item=item)
    assert msg == {"role": "user", "content": "上下文：\nA: mmpose 支持吗\nB: 哪个版本\nA: 1.x\n问题：它支持 {text} 吗？\n"
                                             "这个问题需要指代消解吗？{literal}"}
    project.prompt_template = ""
    [msg] = item_messages(project=project, item=item)
    assert msg["content"] == "A: mmpose 支持吗\nB: 哪个版本\nA: 1.x\n\n它支持 {text} 吗？"
    assert "张三" not in msg["content"]


def test_it_lists_an_items_candidates_for_managers_only(world, client_as, django_assert_num_queries):
    item = ItemFactory(project=world.project)
    for name in ("qwen-0.5b", "qwen-1.5b", "qwen-7b"):
        mv = ModelVersionFactory(project=world.project, name=name)
        for s in range(2):
            CandidateFactory(model_version=mv, item=item, sample_index=s, text=f"{name} 的回答 <b>{s}</b>",
                             completion_tokens=42, latency_ms=1234)
    url = reverse("item-candidates", kwargs={"project_id": world.project.pk, "item_id": item.pk})
    client = client_as(world.users["manager"])
    client.get(url)
    with django_assert_num_queries(10):  # the same with 6 candidates as with 1: no query per row
        r = client.get(url)
    html = r.content.decode()
    assert r.status_code == 200 and html.count("的回答") == 6 and "1234 ms" in html and "/ 42" in html
    assert "<b>0</b>" not in html and "&lt;b&gt;0&lt;/b&gt;" in html  # model output is escaped
    r = client_as(world.users["reviewer"]).get(url)
    assert r.status_code == 404 and b"qwen" not in r.content


def test_it_starts_a_generation_job_from_the_page(world, client_as):
    mv = ModelVersionFactory(project=world.project, name="base")
    ItemFactory(project=world.project, task_type="a / b")
    ItemFactory(project=world.project, task_type="c / d")
    client = client_as(world.users["manager"])
    page = client.get(reverse("generation-list", kwargs={"project_id": world.project.pk}))
    assert page.status_code == 200 and "a / b" in page.content.decode()
    r = client.post(reverse("generation-create", kwargs={"project_id": world.project.pk}), {
        "model_versions": [mv.pk], "task_type": "a / b", "n_samples": 3, "temperature": 0.5, "top_p": 0.9,
        "top_k": 20, "repetition_penalty": 1.1, "no_repeat_ngram_size": 0, "max_new_tokens": 64, "seed": 7})
    assert r.status_code == 302
    job = Job.objects.get(kind="generation", project=world.project)
    assert job.progress_total == 3 and job.params["sampling"]["top_k"] == 20 and job.params["sampling"]["seed"] == 7
    detail = client.get(r["Location"])
    assert detail.status_code == 200 and f"job-{job.pk}" in detail.content.decode()
    bad = client.post(reverse("generation-create", kwargs={"project_id": world.project.pk}), {
        "model_versions": [mv.pk], "item_ids": "1, x", "n_samples": 1, "temperature": 0.5, "top_p": 0.9,
        "top_k": 0, "repetition_penalty": 1, "no_repeat_ngram_size": 0, "max_new_tokens": 64},
        HTTP_HX_REQUEST="true")
    # htmx swaps only 2xx answers: the errors come back as the form alone (no page header, no tabs) with a 200
    html = bad.content.decode()
    assert bad.status_code == 200 and "is not an item id" in html and html.lstrip().startswith("<form")
    assert "topbar" not in html and Job.objects.filter(kind="generation").count() == 1
    plain_bad = client.post(reverse("generation-create", kwargs={"project_id": world.project.pk}),
                            {"model_versions": [mv.pk], "item_ids": "x"})
    assert plain_bad.status_code == 422 and "topbar" in plain_bad.content.decode()


def test_it_sends_htmx_to_the_new_job_page_with_hx_redirect(world, client_as):
    """A 302 to an htmx post is followed by htmx and the whole job page lands inside the form."""
    mv = ModelVersionFactory(project=world.project, name="base")
    ItemFactory(project=world.project)
    client = client_as(world.users["manager"])
    r = client.post(reverse("generation-create", kwargs={"project_id": world.project.pk}), {
        "model_versions": [mv.pk], "n_samples": 1, "temperature": 0.7, "top_p": 1, "top_k": 0,
        "repetition_penalty": 1, "no_repeat_ngram_size": 0, "max_new_tokens": 8}, HTTP_HX_REQUEST="true")
    job = Job.objects.get(kind="generation", project=world.project)
    assert r.status_code == 200 and not r.content
    assert r["HX-Redirect"] == reverse("generation-detail", kwargs={"project_id": world.project.pk, "job_id": job.pk})


def test_it_starts_and_reads_generation_jobs_over_the_api(world, api_as):
    mv = ModelVersionFactory(project=world.project)
    items = [ItemFactory(project=world.project) for _ in range(2)]
    api = api_as(world.users["manager"])
    base = f"/api/projects/{world.project.pk}/generation-jobs/"
    r = api.post(base, {"model_version_ids": [mv.pk], "item_ids": [i.pk for i in items], "n_samples": 2,
                        "params": {"temperature": 0, "max_new_tokens": 8}}, format="json")
    assert r.status_code == 202, r.content
    assert r.json()["progress_total"] == 4 and r.json()["params"]["sampling"]["temperature"] == 0
    assert api.get(f"{base}{r.json()['id']}/").json()["kind"] == "generation"
    r = api.post(base, {"model_version_ids": [mv.pk], "item_filter": {"all": True},
                        "params": {"top_p": 7}}, format="json")
    assert r.status_code == 400 and "top_p" in str(r.json())
    c = CandidateFactory(model_version=mv, item=items[0])
    got = api.get(f"/api/projects/{world.project.pk}/items/{items[0].pk}/candidates/").json()
    assert got["results"][0]["id"] == c.pk and got["results"][0]["latency_ms"] == 137
