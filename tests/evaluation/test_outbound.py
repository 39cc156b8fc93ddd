"""The openai backend reaches out only to staff-allowlisted endpoints, with a key variable that is never one of
the app's own secrets; a failing server's body never reaches the job's error."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from labelstudio_app.evaluation.models import Candidate, ModelVersion, OutboundEndpoint
from labelstudio_app.evaluation.services import generation_job_create, outbound_endpoints_seed
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from tests.conftest import wait_for
from tests.evaluation.chat_server import SECRET_BODY, ChatServer
from tests.evaluation.factories import ModelVersionFactory
from tests.factories import ItemFactory
from workers.generation.backends import backends_close
from workers.tasks import run_job


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s
    backends_close()


def _api_base(world):
    return f"/api/projects/{world.project.pk}/model-versions/"


@pytest.mark.parametrize("options", [
    {"base_url": "http://169.254.169.254/latest/meta-data?", "model": "m"},
    {"endpoint": "gpu1", "api_key_env": "SECRET_KEY"},
    {"endpoint": "gpu1", "base_url": "http://127.0.0.1:6379/"},
])
def test_it_refuses_a_manager_who_sets_the_server_or_the_key_variable(world, api_as, options):
    OutboundEndpoint.objects.create(name="gpu1", base_url="http://gpu1:8000/v1")
    r = api_as(world.users["manager"]).post(_api_base(world), {"name": "x", "base_model": "qwen", "backend": "openai",
                                                               "backend_options": options}, format="json")
    assert r.status_code == 400 and "endpoint" in r.json()["errors"]["backend_options"][0], r.content
    assert not ModelVersion.objects.filter(project=world.project).exists()


def test_it_refuses_a_patch_that_retargets_a_version(world, api_as):
    OutboundEndpoint.objects.create(name="gpu1", base_url="http://gpu1:8000/v1")
    OutboundEndpoint.objects.create(name="old", base_url="http://old:8000/v1", enabled=False)
    mv = ModelVersionFactory(project=world.project, backend="openai", base_model="qwen",
                             backend_options={"endpoint": "gpu1", "model": "qwen"})
    url = f"{_api_base(world)}{mv.pk}/"
    api = api_as(world.users["manager"])
    for options in ({"base_url": "http://10.0.0.5:5432/", "api_key_env": "DATABASE_URL"},
                    {"endpoint": "gpu1", "api_key_env": "SECRET_KEY"}, {"endpoint": "old"}):
        r = api.patch(url, {"backend_options": options}, format="json")
        assert r.status_code == 400, r.content
    mv.refresh_from_db()
    assert mv.backend_options == {"endpoint": "gpu1", "model": "qwen"}
    assert api.patch(url, {"backend_options": {"endpoint": "gpu1", "timeout": 30}}, format="json").status_code == 200


@pytest.mark.parametrize("name", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_HOST_PASSWORD", "MY_DB_SECRET",
                                  "CELERY_BROKER_URL", "FLYWHEEL_DATA_DIR"])
def test_it_never_lets_staff_make_an_app_secret_a_key_variable(db, name):
    with pytest.raises(ValidationError, match="can never be sent"):
        OutboundEndpoint(name="e", base_url="http://gpu1:8000/v1", api_key_env=name).full_clean()


@pytest.mark.parametrize("url", ["http://gpu1:8000/v1?x=/admin", "http://u:p@gpu1/v1", "file:///etc/passwd",
                                 "http://gpu1/v1#frag", "gopher://gpu1/"])
def test_it_refuses_endpoint_urls_that_could_steer_the_request(db, url):
    with pytest.raises(ValidationError, match="Base URL"):
        OutboundEndpoint(name="e", base_url=url).full_clean()


def test_it_lets_staff_add_an_endpoint_in_the_admin_but_not_with_a_secret(world, client_as):
    client = client_as(world.users["admin"])
    url = reverse("admin:evaluation_outboundendpoint_add")
    bad = client.post(url, {"name": "gpu1", "base_url": "http://gpu1:8000/v1", "api_key_env": "SECRET_KEY",
                            "enabled": "on"})
    assert bad.status_code == 200 and not OutboundEndpoint.objects.exists()
    ok = client.post(url, {"name": "gpu1", "base_url": "http://gpu1:8000/v1/", "api_key_env": "VLLM_API_KEY",
                           "enabled": "on"})
    assert ok.status_code == 302
    assert OutboundEndpoint.objects.values_list("base_url", "api_key_env").get() == ("http://gpu1:8000/v1",
                                                                                     "VLLM_API_KEY")
    assert client_as(world.users["manager"]).get(url).status_code == 302  # managers are not staff


def test_it_seeds_the_allowlist_from_the_setting_without_overwriting_staff_edits(db, settings):
    settings.OUTBOUND_ENDPOINTS = {"gpu1": {"base_url": "http://gpu1:8000/v1", "api_key_env": "VLLM_API_KEY"},
                                   "hosted": {"base_url": "https://api.example.com/v1"}}
    assert outbound_endpoints_seed() == 2
    OutboundEndpoint.objects.filter(name="gpu1").update(enabled=False)
    assert outbound_endpoints_seed() == 0
    assert not OutboundEndpoint.objects.get(name="gpu1").enabled


def test_it_refuses_at_job_start_a_version_edited_in_the_database(db, server, world):
    OutboundEndpoint.objects.create(name="chat", base_url=server.base_url)
    mv = ModelVersionFactory(project=world.project, backend="openai", base_model="qwen",
                             backend_options={"endpoint": "chat", "max_retries": 0})
    item = ItemFactory(project=world.project)
    job = generation_job_create(project=world.project, user=world.users["manager"], model_versions=[mv], items=[item])
    ModelVersion.objects.filter(pk=mv.pk).update(backend_options={"base_url": "http://127.0.0.1:9/",
                                                                  "api_key_env": "SECRET_KEY"})
    assert run_job.run(job.pk) == "failed"
    assert "pick an endpoint" in Job.objects.get(pk=job.pk).error and server.requests == []


def test_it_shows_the_status_but_never_the_body_of_a_failed_request(db, server, world):
    OutboundEndpoint.objects.create(name="chat", base_url=server.base_url)
    server.always = "500-secret"
    mv = ModelVersionFactory(project=world.project, backend="openai", base_model="qwen",
                             backend_options={"endpoint": "chat", "max_retries": 0})
    job = generation_job_create(project=world.project, user=world.users["manager"], model_versions=[mv],
                                items=[ItemFactory(project=world.project)])
    assert run_job.run(job.pk) == "failed"
    error = Job.objects.get(pk=job.pk).error
    assert "HTTP 500 Internal Server Error" in error and "hunter2" not in error and SECRET_BODY not in error


def test_it_sends_the_key_only_to_the_allowlisted_server_from_a_worker_process(worker_process, server):
    from tests.conftest import make_world

    world = make_world()
    OutboundEndpoint.objects.create(name="chat", base_url=server.base_url, api_key_env="FW_TEST_LLM_KEY")
    worker_process(extra_env={"FW_TEST_LLM_KEY": "sk-allowlisted-only"})
    mv = ModelVersionFactory(project=world.project, backend="openai", base_model="qwen",
                             backend_options={"endpoint": "chat", "model": "qwen"})
    items = [ItemFactory(project=world.project) for _ in range(2)]
    job = generation_job_create(project=world.project, user=world.users["manager"], model_versions=[mv], items=items)
    job_services.job_enqueue(job_id=job.pk)  # a transactional test may have no commit hook to send it
    wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED, timeout=60, what="generation")
    assert Candidate.objects.filter(model_version=mv).count() == 2
    assert {h.get("Authorization") for _, _, h in server.chat_requests()} == {"Bearer sk-allowlisted-only"}


# ---- bounds and cancel -------------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"timeout": 0}, "timeout"), ({"timeout": 601}, "timeout"), ({"max_retries": 6}, "max_retries"),
    ({"max_retries": -1}, "max_retries"), ({"concurrency": 0}, "concurrency"),
])
def test_it_bounds_timeout_and_retries_on_create_and_patch(world, api_as, options, message):
    OutboundEndpoint.objects.create(name="gpu1", base_url="http://gpu1:8000/v1")
    api = api_as(world.users["manager"])
    r = api.post(_api_base(world), {"name": "x", "base_model": "qwen", "backend": "openai",
                                    "backend_options": {"endpoint": "gpu1", **options}}, format="json")
    assert r.status_code == 400 and message in r.json()["errors"]["backend_options"][0], r.content
    mv = ModelVersionFactory(project=world.project, backend="openai", base_model="qwen",
                             backend_options={"endpoint": "gpu1"})
    r = api.patch(f"{_api_base(world)}{mv.pk}/", {"backend_options": {"endpoint": "gpu1", **options}}, format="json")
    assert r.status_code == 400 and message in r.json()["errors"]["backend_options"][0], r.content


def test_it_cancels_a_job_whose_server_always_answers_503_within_seconds(worker_process, server):
    import time

    from tests.conftest import make_world

    world = make_world()
    OutboundEndpoint.objects.create(name="chat", base_url=server.base_url)
    server.always = "503"
    worker_process()
    # Five retries with exponential back-off would keep it waiting about 15 s before failing.
    mv = ModelVersionFactory(project=world.project, backend="openai", base_model="qwen",
                             backend_options={"endpoint": "chat", "max_retries": 5, "concurrency": 1})
    job = generation_job_create(project=world.project, user=world.users["manager"], model_versions=[mv],
                                items=[ItemFactory(project=world.project)])
    job_services.job_enqueue(job_id=job.pk)
    wait_for(lambda: len(server.chat_requests()) >= 2, timeout=60, what="the first retries")
    job_services.job_cancel(job=Job.objects.get(pk=job.pk))
    asked = time.monotonic()
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=30, what="the job to stop")
    assert Job.objects.get(pk=job.pk).state == Job.State.CANCELLED
    assert time.monotonic() - asked < 4
    seen = len(server.chat_requests())
    time.sleep(1.5)
    assert len(server.chat_requests()) == seen  # no attempt after the cancel landed
