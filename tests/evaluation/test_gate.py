"""The promotion gate: each check on its own blocks a promotion (with its reason on the page), a passing version
promotes, a forced one needs a reason that is kept, a rollback restores the version served before, and only
managers reach any of it."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from labelstudio_app.core.errors import Conflict
from labelstudio_app.evaluation import selectors, services
from labelstudio_app.evaluation.gate import gate_verdict
from labelstudio_app.evaluation.models import ServingChange
from tests.audit.factories import labelled_project
from tests.evaluation.gate_data import SCORES, judged_round, lineage, trained_with_heldout

PASSING = "w" * 32 + "l" * 8  # 40 judgments, win rate 0.8: Wilson 95% interval about 0.65 to 0.90


def _failed(mv) -> set[str]:
    return {c["key"] for c in gate_verdict(model_version=mv)["checks"] if not c["passed"]}


def _why(mv, key) -> str:
    return next(c["why"] for c in gate_verdict(model_version=mv)["checks"] if c["key"] == key)


def _detail(project, mv):
    return reverse("model-version-detail", kwargs={"project_id": project.pk, "model_version_id": mv.pk})


@pytest.fixture
def pair(world):
    return lineage(world.project)


def test_it_promotes_a_version_that_passes_every_check(world, pair):
    _parent, child = pair
    judged_round(world.project, child, PASSING, version_is_a=False)  # the parent on side A: scored from child's side
    verdict = gate_verdict(model_version=child)
    assert verdict["passed"] and verdict["judgments"] == 40 and verdict["win_rate"]["wins"] == 32
    change = services.serving_promote(model_version=child, user=world.users["manager"])
    assert change.action == ServingChange.Action.PROMOTE and change.created_by == world.users["manager"]
    assert change.verdict["passed"] and change.verdict["win_rate"]["rate"] == pytest.approx(0.8)
    assert selectors.serving_change_current(project=world.project).model_version == child
    with pytest.raises(Conflict, match="already the serving version"):
        services.serving_promote(model_version=child, user=world.users["manager"])


def test_it_blocks_a_version_with_too_few_judgments(world, pair, settings):
    _parent, child = pair
    judged_round(world.project, child, "w" * 20)
    assert _failed(child) == {"judgments"}
    assert "20 judgments" in _why(child, "judgments") and "at least 30" in _why(child, "judgments")
    with pytest.raises(Conflict, match="Enough judgments"):
        services.serving_promote(model_version=child, user=world.users["manager"])
    settings.GATE_MIN_JUDGMENTS = 20
    assert _failed(child) == set()


def test_it_blocks_a_version_whose_win_rate_interval_reaches_one_half(world, pair):
    _parent, child = pair
    judged_round(world.project, child, "w" * 22 + "l" * 14 + "t" * 4)  # 0.6, interval from about 0.45
    assert _failed(child) == {"win_rate"}
    assert "Win rate 0.600" in _why(child, "win_rate")
    with pytest.raises(Conflict, match="It beats its parent"):
        services.serving_promote(model_version=child, user=world.users["manager"])
    assert not ServingChange.objects.exists()


def test_it_blocks_a_version_that_regresses_on_one_task_type(world, pair):
    _parent, child = pair
    judged_round(world.project, child, "w" * 40, task_type="deployment / edge")
    judged_round(world.project, child, "l" * 10, task_type="math 数学")
    verdict = gate_verdict(model_version=child)
    assert verdict["win_rate"]["low"] > 0.5 and verdict["judgments"] == 50
    assert _failed(child) == {"task_types"}
    assert "math 数学" in _why(child, "task_types")
    assert [t["regressed"] for t in verdict["task_types"]] == [False, True]


def test_it_blocks_a_version_that_regresses_on_honesty(world, pair):
    _parent, child = pair
    worse = ({**SCORES, "honesty": 3}, SCORES)
    judged_round(world.project, child, PASSING, scores=lambda i: worse)
    assert _failed(child) == {"honesty"}
    assert "Significantly below its parent: mean difference -1.000" in _why(child, "honesty")


def test_it_vetoes_on_harmlessness_where_the_same_evidence_on_honesty_passes(world, pair):
    """3 of 40 answers a point less harmless: the two-sided 95% interval still reaches 0 (honesty would pass),
    the one-sided bound does not, so harmlessness vetoes a version that passes everything else."""
    _parent, child = pair
    judged_round(world.project, child, PASSING,
                 scores=lambda i: ({**SCORES, "harmlessness": 3} if i < 3 else SCORES, SCORES))
    assert _failed(child) == {"harmlessness"}
    assert _why(child, "harmlessness").startswith("Veto:")
    row = next(d for d in gate_verdict(model_version=child)["dimensions"] if d["dimension"] == "harmlessness")
    assert row["high"] > 0 > row["bound"]

    _other_parent, other = lineage(world.project, names=("p2", "c2"))
    judged_round(world.project, other, PASSING,
                 scores=lambda i: ({**SCORES, "honesty": 3} if i < 3 else SCORES, SCORES))
    assert _failed(other) == set()


def test_it_blocks_a_version_whose_heldout_audit_dropped(world, pair):
    _parent, child = pair
    project, items = labelled_project(labels=["yes"] * 10 + ["no"] * 10, project=world.project)
    judged_round(world.project, child, PASSING)
    right = ["yes"] * 10 + ["no"] * 10
    trained_with_heldout(project, child, items, base_answers=right, new_answers=["yes"] * 20)
    assert _failed(child) == {"heldout"}
    why = _why(child, "heldout")
    assert "accuracy, macro-F1" in why and "-0.500" in why


def test_it_passes_the_heldout_check_when_the_audit_did_not_drop(world, pair):
    _parent, child = pair
    project, items = labelled_project(labels=["yes"] * 10 + ["no"] * 10, project=world.project)
    judged_round(world.project, child, PASSING)
    right = ["yes"] * 10 + ["no"] * 10
    trained_with_heldout(project, child, items, base_answers=["yes"] * 20, new_answers=right)
    verdict = gate_verdict(model_version=child)
    assert verdict["passed"] and verdict["heldout"]["accuracy"]["diff"] == pytest.approx(0.5)


def test_it_blocks_a_version_without_a_parent_which_only_force_promotes(world, pair):
    parent, _child = pair
    assert _failed(parent) == {"parent"}
    with pytest.raises(ValidationError) as exc:
        services.serving_promote(model_version=parent, user=world.users["manager"], force=True, reason="  ")
    assert "reason" in exc.value.message_dict
    assert not ServingChange.objects.exists()
    change = services.serving_promote(model_version=parent, user=world.users["manager"], force=True,
                                      reason="第一个上线版本 the base goes first")
    change.refresh_from_db()
    assert change.action == ServingChange.Action.FORCE and change.reason == "第一个上线版本 the base goes first"
    assert change.created_by == world.users["manager"] and change.created_at is not None
    assert change.verdict["passed"] is False


def test_it_rolls_back_to_the_versions_served_before_in_turn(world, pair):
    parent, child = pair
    manager = world.users["manager"]
    services.serving_promote(model_version=parent, user=manager, force=True, reason="first")
    judged_round(world.project, child, PASSING)
    services.serving_promote(model_version=child, user=manager)
    grandchild = lineage(world.project, names=("unused", "grandchild"))[1]
    grandchild.parent = child
    grandchild.save()
    services.serving_promote(model_version=grandchild, user=manager, force=True, reason="hotfix")

    back = services.serving_rollback(project=world.project, user=manager, reason="hotfix 回答变差")
    assert back.action == ServingChange.Action.ROLLBACK and back.model_version == child
    assert selectors.serving_change_current(project=world.project).model_version == child
    assert services.serving_rollback(project=world.project, user=manager).model_version == parent
    with pytest.raises(Conflict, match="no earlier serving version"):
        services.serving_rollback(project=world.project, user=manager)
    assert list(ServingChange.objects.order_by("id").values_list("action", "model_version__name")) == [
        ("force", "parent 基座"), ("promote", "child 微调"), ("force", "grandchild"),
        ("rollback", "child 微调"), ("rollback", "parent 基座")]


def test_the_version_page_shows_the_verdict_its_numbers_and_the_history(world, pair, client_as):
    _parent, child = pair
    judged_round(world.project, child, "w" * 22 + "l" * 14 + "t" * 4)
    page = client_as(world.users["manager"]).get(_detail(world.project, child)).content.decode()
    assert "Not passed" in page and "Win rate 0.600" in page and "gate-promote" not in page
    assert "gate-check-win_rate failed" in page and "gate-check-judgments passed" in page
    assert "Force the promotion past the gate" in page

    r = client_as(world.users["manager"]).post(
        reverse("model-version-promote", kwargs={"project_id": world.project.pk, "model_version_id": child.pk}),
        {"force": "1", "force-reason": ""})
    assert r.status_code == 422 and "a reason is required" in r.content.decode()
    assert not ServingChange.objects.exists()
    r = client_as(world.users["manager"]).post(
        reverse("model-version-promote", kwargs={"project_id": world.project.pk, "model_version_id": child.pk}),
        {"force": "1", "force-reason": "<b>客户急需</b>"}, follow=True)
    page = r.content.decode()
    assert "serving-badge" in page and "&lt;b&gt;客户急需&lt;/b&gt;" in page and "mia_manager" in page


def test_the_page_offers_promotion_only_for_a_passing_version(world, pair, client_as):
    parent, child = pair
    judged_round(world.project, child, PASSING)
    client = client_as(world.users["manager"])
    assert "gate-promote" in client.get(_detail(world.project, child)).content.decode()
    assert "gate-promote" not in client.get(_detail(world.project, parent)).content.decode()
    url = reverse("model-version-promote", kwargs={"project_id": world.project.pk, "model_version_id": parent.pk})
    r = client.post(url, follow=True)
    assert "did not pass the promotion gate" in r.content.decode() and not ServingChange.objects.exists()


# ---- the API -------------------------------------------------------------------------------------------

def _api(project, name, **kw):
    return reverse(name, kwargs={"project_id": project.pk, **kw})


def test_the_api_gives_the_verdict_and_promotes_forces_and_rolls_back(world, pair, api_as):
    parent, child = pair
    judged_round(world.project, child, PASSING)
    api = api_as(world.users["manager"])
    gate = api.get(_api(world.project, "api-model-version-gate", model_version_id=parent.pk)).json()
    assert gate["passed"] is False and gate["checks"][0]["key"] == "parent"
    r = api.post(_api(world.project, "api-model-version-promote", model_version_id=parent.pk))
    assert r.status_code == 409 and "did not pass" in r.json()["detail"]
    r = api.post(_api(world.project, "api-model-version-force", model_version_id=parent.pk), {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    r = api.post(_api(world.project, "api-model-version-force", model_version_id=parent.pk),
                 {"reason": "base first"}, format="json")
    assert r.status_code == 201 and r.json()["action"] == "force" and r.json()["created_by"] == "mia_manager"
    r = api.post(_api(world.project, "api-model-version-promote", model_version_id=child.pk))
    assert r.status_code == 201 and r.json()["verdict"]["passed"] is True
    serving = api.get(_api(world.project, "api-serving")).json()
    assert serving["serving"]["id"] == child.pk and [h["action"] for h in serving["history"]] == ["promote", "force"]
    r = api.post(_api(world.project, "api-serving-rollback"), {}, format="json")
    assert r.status_code == 201 and api.get(_api(world.project, "api-serving")).json()["serving"]["id"] == parent.pk
    assert api.post(_api(world.project, "api-serving-rollback"), {}, format="json").status_code == 409


@pytest.mark.parametrize("who,expected", [("admin", 200), ("manager", 200), ("annotator", 404), ("reviewer", 404),
                                          ("outsider", 404)])
def test_only_managers_reach_the_gate_and_the_serving_version(world, pair, api_as, client_as, who, expected):
    _parent, child = pair
    judged_round(world.project, child, PASSING)
    user = world.users[who]
    api = api_as(user)
    assert api.get(_api(world.project, "api-model-version-gate", model_version_id=child.pk)).status_code == expected
    assert api.get(_api(world.project, "api-serving")).status_code == expected
    writes = [api.post(_api(world.project, "api-model-version-promote", model_version_id=child.pk)),
              api.post(_api(world.project, "api-model-version-force", model_version_id=child.pk),
                       {"reason": "x"}, format="json"),
              api.post(_api(world.project, "api-serving-rollback"), {}, format="json")]
    page = client_as(user)
    writes.append(page.post(reverse("model-version-promote", kwargs={"project_id": world.project.pk,
                                                                     "model_version_id": child.pk})))
    writes.append(page.post(reverse("serving-rollback", kwargs={"project_id": world.project.pk})))
    assert page.get(_detail(world.project, child)).status_code == expected
    if expected == 404:
        assert [w.status_code for w in writes] == [404] * 5 and not ServingChange.objects.exists()
    else:
        # promoted; already serving; nothing served before it; the pages answer with a redirect and a notice
        assert [w.status_code for w in writes] == [201, 409, 409, 302, 302]
        assert ServingChange.objects.get().model_version == child


def test_anonymous_callers_are_refused(world, pair, client):
    _parent, child = pair
    r = client.get(_api(world.project, "api-model-version-gate", model_version_id=child.pk))
    assert r.status_code in (401, 403)
    r = client.post(_api(world.project, "api-serving-rollback"))
    assert r.status_code in (401, 403) and not ServingChange.objects.exists()


def test_the_schema_lists_the_gate_endpoints(world, api_as):
    schema = api_as(world.users["manager"]).get("/api/schema/", HTTP_ACCEPT="application/json")
    text = schema.content.decode()
    for path in ("/model-versions/{model_version_id}/gate/", "/model-versions/{model_version_id}/promote/",
                 "/model-versions/{model_version_id}/force/", "/serving/", "/serving/rollback/"):
        assert path in text, path
