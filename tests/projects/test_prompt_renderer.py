"""One prompt renderer: a model is trained, asked and audited on the same prompt for an item."""
import json

from labelstudio_app.audit import services as audit_services
from labelstudio_app.evaluation.models import Candidate, OutboundEndpoint
from labelstudio_app.evaluation.services import generation_job_create
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.sft import item_prompt_messages
from labelstudio_app.training import services as training_services
from tests.audit.factories import labelled_project
from tests.evaluation.chat_server import ChatServer
from tests.evaluation.factories import ModelVersionFactory
from tests.factories import UserFactory
from workers.audit.job import audit_run
from workers.context import JobContext
from workers.generation.backends import backends_close
from workers.generation.job import generation_run

TRAINING = {"system": "你是 OpenMMLab 群聊助手。", "instruction": "unused: the prompt template wins",
            "output": "{label:needs_context|yes=需要|no=不需要|not_question=不是问题}"}


def _run_inline(job, handler):
    claimed = job_services.job_claim(job_id=job.pk, worker="inline")
    result = handler(JobContext(job=claimed, worker="inline"))
    job_services.job_finish(job_id=job.pk, worker="inline", state=Job.State.SUCCEEDED, result=result)


def _served(project, server):
    OutboundEndpoint.objects.update_or_create(name="chat-test", defaults={"base_url": server.base_url})
    return ModelVersionFactory(project=project, name="served", base_model="qwen-7b", backend="openai",
                               backend_options={"endpoint": "chat-test", "model": "qwen-7b", "max_retries": 0})


def _sent(server) -> list[list[dict]]:
    return [body["messages"] for _, body, _ in server.chat_requests()]


def test_it_trains_generates_and_audits_on_the_same_prompt(db):
    project, [item] = labelled_project(labels=["yes"], training_template=TRAINING)
    user = UserFactory(is_staff=True)
    snapshot = training_services.snapshot_create(project=project, user=user, name="s", recipe={})
    [row] = [json.loads(line) for line in training_services.snapshot_file(snapshot).read_text().splitlines()]
    trained_prompt = row["messages"][:-1]
    assert trained_prompt[0] == {"role": "system", "content": "你是 OpenMMLab 群聊助手。"}
    assert "A: mmpose 很好用" in trained_prompt[1]["content"] and "张三" not in trained_prompt[1]["content"]
    assert row["messages"][-1] == {"role": "assistant", "content": "需要"}
    assert snapshot.recipe["renderer"] >= 2
    with ChatServer() as server:
        mv = _served(project, server)
        _run_inline(generation_job_create(project=project, user=user, model_versions=[mv], items=[item],
                                          params={"max_new_tokens": 8}), generation_run)
        run = audit_services.audit_run_create(project=project, user=user, question="needs_context",
                                              model_versions=[mv])
        _run_inline(run.job, audit_run)
        generated, audited = _sent(server)
    backends_close()
    assert generated == trained_prompt == audited == item_prompt_messages(project=project, item=item)


def test_it_generates_new_candidates_after_the_template_is_edited(db):
    project, items = labelled_project(labels=["yes", "no"])
    user = UserFactory(is_staff=True)
    with ChatServer() as server:
        mv = _served(project, server)
        _run_inline(generation_job_create(project=project, user=user, model_versions=[mv], items=items,
                                          params={"max_new_tokens": 8, "seed": 1}), generation_run)
        _run_inline(generation_job_create(project=project, user=user, model_versions=[mv], items=items,
                                          params={"max_new_tokens": 8, "seed": 1}), generation_run)
        assert Candidate.objects.count() == 2  # the same prompt again: nothing new
        project.prompt_template = "Question: {text}\nAnswer needs / does not need context."
        project.save(update_fields=["prompt_template"])
        _run_inline(generation_job_create(project=project, user=user, model_versions=[mv], items=items,
                                          params={"max_new_tokens": 8, "seed": 1}), generation_run)
        asked_last = _sent(server)[-2:]  # the two items' requests run concurrently: any order
    backends_close()
    assert Candidate.objects.count() == 4
    assert len(set(Candidate.objects.values_list("prompt_sha256", flat=True))) == 4
    assert sorted(m[0]["content"] for m in asked_last) == sorted(
        f"Question: {item.text}\nAnswer needs / does not need context." for item in items)
