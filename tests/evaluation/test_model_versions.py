"""Registering model versions: where weights may come from, safetensors only, chat template, lineage."""
import json
import os
import shutil

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from labelstudio_app.evaluation.models import ModelVersion, OutboundEndpoint
from labelstudio_app.evaluation.services import model_version_create, model_version_update
from tests.evaluation.factories import ModelVersionFactory
from tests.evaluation.fixtures import tiny_adapter_root, tiny_model_root  # noqa: F401
from tests.factories import ProjectFactory, UserFactory


@pytest.fixture
def roots(tmp_path, settings, tiny_model_root, tiny_adapter_root):  # noqa: F811
    root = tmp_path / "models"
    shutil.copytree(tiny_model_root, root / "tiny")
    shutil.copytree(tiny_adapter_root, root / "tiny-lora")
    settings.MODEL_ROOTS = [root.resolve()]
    return root


@pytest.fixture
def hub_allowed(settings):
    settings.ALLOW_HUB_MODELS = True


@pytest.fixture
def staff(db):
    return UserFactory(username="root_admin", is_staff=True)


@pytest.fixture
def manager(db):
    return UserFactory(username="mgr")


def _create(project, user, **kw):
    return model_version_create(project=project, user=user, **{"name": "v1", **kw})


def test_it_registers_a_local_model_with_its_parameter_count_and_chat_template(db, roots, manager):
    from transformers import AutoModelForCausalLM

    mv = _create(ProjectFactory(), manager, base_model=str(roots / "tiny"))
    expected = AutoModelForCausalLM.from_pretrained(roots / "tiny").num_parameters()
    assert mv.parameter_count == expected and mv.metadata["chat_template"] == "ok"
    assert mv.trust_remote_code is False and mv.created_by == manager


def test_it_registers_an_adapter_on_a_parent(db, roots, manager):
    project = ProjectFactory()
    base = _create(project, manager, base_model=str(roots / "tiny"))
    child = _create(project, manager, name="v2 微调", base_model=str(roots / "tiny"),
                    adapter_path=str(roots / "tiny-lora"), parent=base)
    assert child.parent == base and child.adapter_path == str((roots / "tiny-lora").resolve())
    assert child.metadata["adapter_parameter_count"] > 0


def test_it_stores_a_hub_id_without_fetching_it(db, roots, manager, hub_allowed):
    mv = _create(ProjectFactory(), manager, base_model="Qwen/Qwen2.5-0.5B-Instruct")
    assert mv.base_model == "Qwen/Qwen2.5-0.5B-Instruct" and mv.parameter_count is None
    assert mv.metadata["chat_template"] == "unchecked"


def test_it_refuses_an_adapter_outside_the_roots(db, roots, manager, tmp_path, tiny_adapter_root):  # noqa: F811
    outside = tmp_path / "elsewhere"
    shutil.copytree(tiny_adapter_root, outside)
    with pytest.raises(ValidationError, match="outside the allowed model roots"):
        _create(ProjectFactory(), manager, base_model=str(roots / "tiny"), adapter_path=str(outside))


def test_it_refuses_dot_dot_traversal(db, roots, manager):
    with pytest.raises(ValidationError, match=r"'\.\.' is not allowed"):
        _create(ProjectFactory(), manager, base_model=str(roots / "tiny"),
                adapter_path=str(roots / "tiny-lora" / ".." / "tiny-lora"))


def test_it_refuses_a_symlink_that_leads_out_of_the_roots(db, roots, manager, tmp_path, tiny_adapter_root):  # noqa: F811
    outside = tmp_path / "secret-adapter"
    shutil.copytree(tiny_adapter_root, outside)
    os.symlink(outside, roots / "looks-inside")
    with pytest.raises(ValidationError, match="outside the allowed model roots"):
        _create(ProjectFactory(), manager, base_model=str(roots / "tiny"), adapter_path=str(roots / "looks-inside"))


def test_it_refuses_pickled_weights(db, roots, manager):
    folder = roots / "pickled"
    folder.mkdir()
    shutil.copy(roots / "tiny" / "config.json", folder)
    (folder / "pytorch_model.bin").write_bytes(b"\x80\x04not really")
    with pytest.raises(ValidationError, match="only from safetensors"):
        _create(ProjectFactory(), manager, base_model=str(folder))


def test_it_refuses_an_adapter_without_safetensors(db, roots, manager):
    folder = roots / "old-adapter"
    folder.mkdir()
    shutil.copy(roots / "tiny-lora" / "adapter_config.json", folder)
    (folder / "adapter_model.bin").write_bytes(b"pickle")
    with pytest.raises(ValidationError, match="only from safetensors"):
        _create(ProjectFactory(), manager, base_model=str(roots / "tiny"), adapter_path=str(folder))


def test_it_refuses_a_model_without_a_chat_template(db, roots, manager):
    folder = roots / "no-template"
    shutil.copytree(roots / "tiny", folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    cfg = json.loads((folder / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValidationError, match="no chat template"):
        _create(ProjectFactory(), manager, base_model=str(folder))


def test_it_lets_only_an_admin_trust_remote_code(db, roots, manager, staff, hub_allowed):
    with pytest.raises(PermissionDenied):
        _create(ProjectFactory(), manager, base_model="org/model", trust_remote_code=True)
    mv = _create(ProjectFactory(), staff, base_model="org/model", trust_remote_code=True)
    assert mv.trust_remote_code
    with pytest.raises(PermissionDenied):
        model_version_update(model_version=mv, user=manager, trust_remote_code=False)


@pytest.mark.parametrize("kw, message", [
    ({"backend": "openai", "backend_options": {}}, "endpoint"),
    ({"backend": "openai", "backend_options": {"endpoint": "nowhere"}}, "not an enabled endpoint"),
    ({"backend_options": {"devcie": "cpu"}}, "Unknown option"),
    ({"backend": "tgi"}, "Unknown backend"),
    ({"name": "  "}, "name is required"),
])
def test_it_refuses_bad_backend_settings(db, roots, manager, kw, message):
    with pytest.raises(ValidationError, match=message):
        _create(ProjectFactory(), manager, **{"base_model": "org/model", **kw})


def test_it_keeps_an_openai_version_with_its_endpoint(db, roots, manager):
    OutboundEndpoint.objects.create(name="gpu1", base_url="http://gpu1:8000/v1", api_key_env="VLLM_API_KEY")
    mv = _create(ProjectFactory(), manager, base_model="qwen2.5-7b", backend="openai",
                 backend_options={"endpoint": "gpu1"})
    assert mv.backend_options == {"endpoint": "gpu1", "model": "qwen2.5-7b"}


def test_it_refuses_a_duplicate_name_and_a_foreign_parent(db, roots, manager, hub_allowed):
    project = ProjectFactory()
    _create(project, manager, base_model="org/model")
    with pytest.raises(ValidationError, match="already exists"):
        _create(project, manager, base_model="org/model")
    with pytest.raises(ValidationError, match="same project"):
        _create(project, manager, name="v2", base_model="org/m", parent=ModelVersionFactory())


def test_it_refuses_a_lineage_cycle(db, manager):
    a = ModelVersionFactory()
    b = ModelVersionFactory(project=a.project, parent=a)
    with pytest.raises(ValidationError, match="descend from itself"):
        model_version_update(model_version=a, user=manager, parent=b)


# ---- pages and API ----------------------------------------------------------------------------------

def test_it_shows_the_lineage_tree_to_managers(world, client_as, django_assert_num_queries):
    root = ModelVersionFactory(project=world.project, name="base 基座")
    ModelVersionFactory(project=world.project, name="sft-1", parent=root)
    ModelVersionFactory(project=world.project, name="sft-2", parent=root)
    client = client_as(world.users["manager"])
    url = reverse("model-version-list", kwargs={"project_id": world.project.pk})
    client.get(url)
    with django_assert_num_queries(8):
        r = client.get(url)
    html = r.content.decode()
    assert r.status_code == 200 and "base 基座" in html and html.count("lineage depth-1") == 2
    assert "Trust remote code" not in html  # the field exists for admins only


def test_it_registers_from_the_form_and_shows_errors(world, client_as, roots):
    client = client_as(world.users["manager"])
    url = reverse("model-version-create", kwargs={"project_id": world.project.pk})
    r = client.post(url, {"name": "tiny", "base_model": str(roots / "tiny"), "backend": "transformers"})
    assert r.status_code == 302 and ModelVersion.objects.get(project=world.project, name="tiny").parameter_count
    r = client.post(url, {"name": "bad", "base_model": "/etc", "backend": "transformers"})
    assert r.status_code == 422 and "outside the allowed model roots" in r.content.decode()
    assert not ModelVersion.objects.filter(name="bad").exists()


def test_it_serves_crud_over_the_api(world, api_as, hub_allowed):
    api = api_as(world.users["manager"])
    base = f"/api/projects/{world.project.pk}/model-versions/"
    r = api.post(base, {"name": "qwen-0.5b", "base_model": "Qwen/Qwen2.5-0.5B-Instruct",
                        "parameter_count": 494032768}, format="json")
    assert r.status_code == 201, r.content
    parent_id = r.json()["id"]
    r = api.post(base, {"name": "qwen-0.5b-sft", "base_model": "Qwen/Qwen2.5-0.5B-Instruct", "parent": parent_id},
                 format="json")
    child_id = r.json()["id"]
    assert api.get(base).json()["count"] == 2
    r = api.patch(f"{base}{child_id}/", {"name": "qwen-0.5b-sft-r64"}, format="json")
    assert r.status_code == 200 and r.json()["name"] == "qwen-0.5b-sft-r64" and r.json()["parent"] == parent_id
    r = api.post(base, {"name": "x", "base_model": "/etc/passwd"}, format="json")
    assert r.status_code == 400 and "base_model" in r.json()["errors"]
    r = api.post(base, {"name": "y", "base_model": "a/b", "trust_remote_code": True}, format="json")
    assert r.status_code == 403
    assert api.delete(f"{base}{child_id}/").status_code == 204
    assert api_as(world.users["reviewer"]).get(base).status_code == 404


@pytest.mark.parametrize("field, value, where", [
    ("metadata", {"note": "a\x00b"}, "note"),
    ("metadata", {"note\x00": "ok"}, "a key"),
    ("metadata", {"runs": [{"loss": "1\x00"}]}, "runs[0].loss"),
    ("metadata", {"note": "\ud800"}, "lone surrogate"),
    ("backend_options", {"device": "cpu\x00"}, "device"),
])
def test_it_refuses_text_the_database_cannot_store_with_a_400_naming_the_field(world, api_as, field, value, where):
    api = api_as(world.users["manager"])
    base = f"/api/projects/{world.project.pk}/model-versions/"
    mv = ModelVersionFactory(project=world.project, name="kept 保留", metadata={"note": "before"})
    # json.dumps escapes NUL and lone surrogates (\u0000, \ud800), as a client would send them
    r = api.patch(f"{base}{mv.pk}/", json.dumps({field: value}), content_type="application/json")
    assert r.status_code == 400 and where in r.json()["errors"][field][0], r.content
    mv.refresh_from_db()
    assert mv.metadata == {"note": "before"} and mv.backend_options == {}
    r = api.post(base, json.dumps({"name": "new", "base_model": "Qwen/Qwen2.5-0.5B-Instruct", field: value}),
                 content_type="application/json")
    assert r.status_code == 400 and field in r.json()["errors"], r.content
    assert not ModelVersion.objects.filter(project=world.project, name="new").exists()


def test_it_refuses_a_nul_escape_in_the_form_json_next_to_the_field(world, client_as):
    client = client_as(world.users["manager"])
    url = reverse("model-version-create", kwargs={"project_id": world.project.pk})
    r = client.post(url, {"name": "hub", "base_model": "Qwen/Qwen2.5-0.5B-Instruct", "backend": "transformers",
                          "backend_options": '{"device": "cpu\\u0000"}'})
    assert r.status_code == 422 and "NUL character" in r.content.decode()
    assert not ModelVersion.objects.filter(project=world.project).exists()


def test_it_answers_htmx_posts_with_a_fragment_or_hx_redirect(world, client_as, hub_allowed):
    client = client_as(world.users["manager"])
    url = reverse("model-version-create", kwargs={"project_id": world.project.pk})
    bad = client.post(url, {"name": "", "base_model": "a/b", "backend": "transformers"}, HTTP_HX_REQUEST="true")
    html = bad.content.decode()
    assert bad.status_code == 200 and html.lstrip().startswith("<form") and "topbar" not in html
    ok = client.post(url, {"name": "hub 模型", "base_model": "a/b", "backend": "transformers"}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and ok["HX-Redirect"] == reverse("model-version-list",
                                                                  kwargs={"project_id": world.project.pk})
    mv = ModelVersion.objects.get(project=world.project, name="hub 模型")
    gone = client.post(reverse("model-version-delete", kwargs={"project_id": world.project.pk,
                                                               "model_version_id": mv.pk}), HTTP_HX_REQUEST="true")
    assert gone["HX-Redirect"].endswith("/models/") and not ModelVersion.objects.filter(pk=mv.pk).exists()


# ---- artifacts belong to their project ----------------------------------------------------------------

@pytest.fixture
def run_adapter(world, tiny_adapter_root):  # noqa: F811
    """An adapter where training writes it, ARTIFACTS_DIR/adapters/<run id>, for a run of world.project."""
    from django.conf import settings

    from tests.training import access

    access.setup(world)
    target = settings.ARTIFACTS_DIR / "adapters" / str(world.training_run.pk)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(tiny_adapter_root, target)
    yield target
    shutil.rmtree(target, ignore_errors=True)


def test_it_refuses_another_projects_adapter_with_a_field_error(world, api_as, run_adapter, tiny_model_root):  # noqa: F811
    from labelstudio_app.accounts.models import Membership
    from workers.generation.job import model_spec

    other = ProjectFactory(name="B")
    Membership.objects.create(user=world.users["manager"], project=other, role="manager")
    api = api_as(world.users["manager"])
    body = {"name": "borrowed", "base_model": str(tiny_model_root), "adapter_path": str(run_adapter)}
    r = api.post(f"/api/projects/{other.pk}/model-versions/", body, format="json")
    assert r.status_code == 400 and "not a model folder of this project" in r.json()["errors"]["adapter_path"][0], r.content
    assert not ModelVersion.objects.filter(project=other).exists()
    # The run's own project registers it, on the shared demo model.
    assert api.post(f"/api/projects/{world.project.pk}/model-versions/", body, format="json").status_code == 201
    # A row edited behind the app's back is refused again when a job starts.
    with pytest.raises(ValidationError, match="not a model folder of this project"):
        model_spec(ModelVersion(project=other, base_model=str(tiny_model_root), adapter_path=str(run_adapter)))


def test_it_refuses_artifacts_that_are_not_model_folders(db, manager, tiny_model_root):  # noqa: F811
    from django.conf import settings

    exports = settings.ARTIFACTS_DIR / "exports"
    exports.mkdir(parents=True, exist_ok=True)
    with pytest.raises(ValidationError, match="not a model folder of this project"):
        _create(ProjectFactory(), manager, base_model=str(tiny_model_root), adapter_path=str(exports))


# ---- hub ids and dtype ----------------------------------------------------------------------------------

def test_it_refuses_a_hub_id_unless_hub_models_are_allowed(world, api_as, settings):
    api = api_as(world.users["manager"])
    base = f"/api/projects/{world.project.pk}/model-versions/"
    r = api.post(base, {"name": "hub", "base_model": "Qwen/Qwen2.5-0.5B-Instruct"}, format="json")
    assert r.status_code == 400 and "FLYWHEEL_ALLOW_HUB_MODELS" in r.json()["errors"]["base_model"][0], r.content
    settings.ALLOW_HUB_MODELS = True
    assert api.post(base, {"name": "hub", "base_model": "Qwen/Qwen2.5-0.5B-Instruct"}, format="json").status_code == 201


def test_it_refuses_a_hub_id_in_the_worker_when_not_allowed_or_shadowed_by_a_folder(db, settings, tmp_path,
                                                                                     monkeypatch):
    from workers.generation.job import model_spec

    mv = ModelVersionFactory(base_model="evil/model")
    with pytest.raises(ValidationError, match="hub models are not allowed"):
        model_spec(mv)
    settings.ALLOW_HUB_MODELS = True
    assert model_spec(mv).base_model == "evil/model"
    (tmp_path / "evil" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)  # the worker's directory holds a folder named like the hub id
    with pytest.raises(ValidationError, match="refusing to guess"):
        model_spec(mv)


@pytest.mark.parametrize("dtype", ["float64", "__class__", "int8", "Tensor"])
def test_it_takes_dtype_from_a_fixed_list(db, roots, manager, dtype):
    project = ProjectFactory()
    with pytest.raises(ValidationError, match="dtype"):
        _create(project, manager, base_model=str(roots / "tiny"), backend_options={"dtype": dtype})
    mv = _create(project, manager, base_model=str(roots / "tiny"), backend_options={"dtype": "bfloat16"})
    with pytest.raises(ValidationError, match="dtype"):
        model_version_update(model_version=mv, user=manager, backend_options={"dtype": dtype, "device": "cpu"})


def test_it_rechecks_dtype_in_the_worker_before_loading(db, roots, manager):
    from workers.generation.job import model_spec

    mv = _create(ProjectFactory(), manager, base_model=str(roots / "tiny"), backend_options={"dtype": "float32"})
    assert model_spec(mv).options == {"dtype": "float32"}
    ModelVersion.objects.filter(pk=mv.pk).update(backend_options={"dtype": "__class__"})
    mv.refresh_from_db()
    with pytest.raises(ValidationError, match="dtype"):
        model_spec(mv)
