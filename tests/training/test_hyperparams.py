"""Bad hyper-parameters are refused in the form and the API with clear messages; good ones queue a gpu job."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from labelstudio_app.jobs.models import Job
from labelstudio_app.training import services
from labelstudio_app.training.hyperparams import DEFAULTS, hyperparams_validate
from labelstudio_app.training.models import TrainingRun
from tests.training.factories import approved_items, base_version

BAD = [
    ({"learning_rate": "-0.001"}, "learning_rate", "must be greater than 0"),
    ({"r": "0"}, "r", "must be at least 1"),
    ({"target_modules": "q_proj, qkv_projj"}, "target_modules", "unknown module(s) qkv_projj"),
    ({"max_seq_length": "4096"}, "max_seq_length", "beyond the model's max_position_embeddings (512)"),
    ({"epochs": "11"}, "epochs", "must be at most 10"),
    ({"lr_scheduler": "exotic"}, "lr_scheduler", "must be one of"),
    ({"batch_size": "two"}, "batch_size", "must be a whole number"),
]


@pytest.fixture
def setup(world, tiny_model_dir):
    approved_items(world.project, 6)
    base = base_version(world.project, world.users["admin"], tiny_model_dir)
    snap = services.snapshot_create(project=world.project, user=world.users["admin"], name="s", recipe={})
    return world, base, snap


def test_it_fills_defaults_in_one_place():
    clean = hyperparams_validate({})
    assert clean == DEFAULTS
    assert (clean["r"], clean["alpha"], clean["dropout"], clean["learning_rate"]) == (64, 16, 0.05, 2e-4)
    with pytest.raises(ValidationError) as exc:
        hyperparams_validate({"rank": 8})
    assert exc.value.message_dict == {"rank": ["unknown hyper-parameter"]}


def test_it_adapts_the_default_length_to_the_model_but_refuses_an_explicit_one():
    config = {"model_type": "qwen2", "max_position_embeddings": 512}
    assert hyperparams_validate({}, model_config=config)["max_seq_length"] == 512
    with pytest.raises(ValidationError):
        hyperparams_validate({"max_seq_length": 1024}, model_config=config)


@pytest.mark.parametrize("bad,field,message", BAD)
def test_it_refuses_bad_values_in_the_form(setup, client_as, bad, field, message):
    world, base, snap = setup
    data = {"base_version": base.pk, "snapshot": snap.pk, **{f"hp_{k}": v for k, v in bad.items()}}
    r = client_as(world.users["admin"]).post(reverse("training-create", kwargs={"project_id": world.project.pk}), data)
    assert r.status_code == 400
    assert message in r.content.decode().replace("&#x27;", "'")
    assert not TrainingRun.objects.exists() and not Job.objects.filter(kind="training").exists()


@pytest.mark.parametrize("bad,field,message", BAD)
def test_it_refuses_bad_values_in_the_api(setup, api_as, bad, field, message):
    world, base, snap = setup
    r = api_as(world.users["admin"]).post(
        reverse("api-training-run-list", kwargs={"project_id": world.project.pk}),
        {"base_version": base.pk, "snapshot": snap.pk, "hyperparams": bad}, format="json")
    assert r.status_code == 400
    assert message in " ".join(r.json()["errors"][field])
    assert not TrainingRun.objects.exists()


def test_it_queues_a_gpu_job_for_good_values_from_the_form(setup, client_as):
    world, base, snap = setup
    r = client_as(world.users["admin"]).post(
        reverse("training-create", kwargs={"project_id": world.project.pk}),
        {"base_version": base.pk, "snapshot": snap.pk, "hp_r": "16", "hp_target_modules": "q_proj v_proj",
         "hp_epochs": "2", "hp_packing": "on"})
    run = TrainingRun.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/training/{run.pk}/")
    assert run.job.kind == "training" and run.job.queue == "gpu" and run.job.state == "queued"
    assert run.hyperparams["r"] == 16 and run.hyperparams["target_modules"] == ["q_proj", "v_proj"]
    assert run.hyperparams["packing"] is True and run.hyperparams["max_seq_length"] == 512


def test_it_lets_only_admins_start_training(setup, client_as, api_as):
    world, base, snap = setup
    for persona in ("manager", "annotator", "reviewer", "outsider"):
        r = api_as(world.users[persona]).post(reverse("api-training-run-list", kwargs={"project_id": world.project.pk}),
                                              {"base_version": base.pk, "snapshot": snap.pk}, format="json")
        assert r.status_code == 404, persona
        r = client_as(world.users[persona]).post(reverse("training-create", kwargs={"project_id": world.project.pk}),
                                                 {"base_version": base.pk, "snapshot": snap.pk})
        assert r.status_code == 404, persona
    assert not TrainingRun.objects.exists()
    r = api_as(world.users["admin"]).post(reverse("api-training-run-list", kwargs={"project_id": world.project.pk}),
                                          {"base_version": base.pk, "snapshot": snap.pk}, format="json")
    assert r.status_code == 201 and r.json()["state"] == "queued" and r.json()["hyperparams"]["r"] == 64


def test_it_shows_the_live_loss_curve_and_stops_polling_when_done(setup, client_as, django_assert_num_queries):
    world, base, snap = setup
    run = services.training_run_create(project=world.project, user=world.users["admin"], base_version=base,
                                       snapshot=snap, hyperparams={"max_steps": 3})
    services.training_run_loss_append(run_id=run.pk, points=[[1, 6.5], [2, 6.1]], eta_seconds=12)
    client = client_as(world.users["manager"])
    url = reverse("training-detail", kwargs={"project_id": world.project.pk, "run_id": run.pk})
    page = client.get(url).content.decode()
    assert "<polyline" in page and 'hx-trigger="every 2s"' in page and "12 s" in page
    assert "Cancel" not in page  # managers watch; admins cancel
    r = client.get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<polyline" in r.content.decode() and "<html" not in r.content.decode()
    Job.objects.filter(pk=run.job_id).update(state="succeeded")
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 286
    with django_assert_num_queries(7):
        r = client.get(reverse("training-list", kwargs={"project_id": world.project.pk}))
    assert f"#{run.pk}" in r.content.decode()


def test_it_cancels_a_run(setup, client_as):
    world, base, snap = setup
    run = services.training_run_create(project=world.project, user=world.users["admin"], base_version=base,
                                       snapshot=snap, hyperparams={})
    r = client_as(world.users["admin"]).post(reverse("training-cancel", kwargs={"project_id": world.project.pk,
                                                                                "run_id": run.pk}))
    assert r.status_code == 302
    run.job.refresh_from_db()
    assert run.job.state == "cancelled"


def test_it_lets_the_admin_choose_how_the_heldout_audit_scores(setup, api_as):
    world, base, snap = setup
    api = api_as(world.users["admin"])
    url = reverse("api-training-run-list", kwargs={"project_id": world.project.pk})
    r = api.post(url, {"base_version": base.pk, "snapshot": snap.pk, "heldout_scoring": "guess"}, format="json")
    assert r.status_code == 400 and "heldout_scoring" in r.json()["errors"]
    r = api.post(url, {"base_version": base.pk, "snapshot": snap.pk, "heldout_scoring": "likelihood"}, format="json")
    assert r.status_code == 201
    run = TrainingRun.objects.get(pk=r.json()["id"])
    # the follow-up that starts the held-out audit after training is told the scoring
    assert run.job.params["then"] == {"name": "training.heldout_audit", "kwargs": {"scoring": "likelihood"}}
    detail = api.get(reverse("api-training-run-detail", kwargs={"project_id": world.project.pk, "run_id": run.pk}))
    assert detail.status_code == 200 and detail.json()["heldout_report"] is None  # no audit before training
    assert detail.json()["eval_loss_history"] == [] and detail.json()["heldout_audit"] is None
    with pytest.raises(ValidationError, match="heldout_scoring"):
        services.training_run_create(project=world.project, user=world.users["admin"], base_version=base,
                                     snapshot=snap, heldout_scoring="guess")
