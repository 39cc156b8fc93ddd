"""Dataset snapshots: sources, filters, mix recipe, held-out split, formats, immutability, pages and API."""
import hashlib
import json
import stat
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from labelstudio_app.evaluation.models import Candidate, ModelVersion
from labelstudio_app.projects.models import Item
from labelstudio_app.review.models import Comparison, ComparisonRound, Judgment
from labelstudio_app.training import services
from labelstudio_app.training.models import DatasetSnapshot
from tests.factories import ItemFactory, UserFactory
from tests.training.factories import approved_items


def _rows(snapshot) -> list[dict]:
    return [json.loads(line) for line in services.snapshot_file(snapshot).read_text(encoding="utf-8").splitlines()]


def _snap(world, **recipe):
    return services.snapshot_create(project=world.project, user=world.users["admin"], name="快照", recipe=recipe)


def _winner(project, item, text_a, text_b, votes):
    mv_a = ModelVersion.objects.get_or_create(project=project, name="A", defaults={"base_model": "/x"})[0]
    mv_b = ModelVersion.objects.get_or_create(project=project, name="B", defaults={"base_model": "/x"})[0]
    ca = Candidate.objects.create(item=item, model_version=mv_a, params_hash="h", text=text_a)
    cb = Candidate.objects.create(item=item, model_version=mv_b, params_hash="h", text=text_b)
    rnd = ComparisonRound.objects.get_or_create(project=project, name="r", model_a=mv_a, model_b=mv_b)[0]
    comp = Comparison.objects.create(round=rnd, item=item, candidate_a=ca, candidate_b=cb, left_is_a=True)
    for _i, pref in enumerate(votes):
        Judgment.objects.create(comparison=comp, reviewer=UserFactory(), preference=pref, a_helpfulness=3,
                                a_honesty=3, a_harmlessness=3, b_helpfulness=3, b_honesty=3, b_harmlessness=3)


def test_it_builds_rows_from_final_labels_references_and_winners(world):
    p = world.project
    finals = approved_items(p, 3)
    ref = ItemFactory(project=p, task_type="reasoning / multi-step", reference_answer="先看日志，再查驱动。")
    won = ItemFactory(project=p, task_type="short-answer")
    _winner(p, won, "胜出的回答 winner", "loser", ["a", "a", "tie"])
    lost = ItemFactory(project=p, task_type="short-answer")
    _winner(p, lost, "tie one", "tie two", ["a", "b"])  # no majority: not a winner
    snap = _snap(world, sources={"final": {}, "reference": {}, "winners": {}})
    rows = _rows(snap)
    assert snap.row_count == len(rows) == 5
    assert snap.source_histogram == {"final": 3, "reference": 1, "winners": 1}
    assert snap.task_type_histogram == {"deployment / edge": 3, "reasoning / multi-step": 1, "short-answer": 1}
    by_item = {r["item_id"]: r for r in rows}
    assert by_item[finals[0].pk]["messages"] == [{"role": "user", "content": finals[0].text},
                                                {"role": "assistant", "content": finals[0].final_values["answer"]}]
    assert by_item[ref.pk]["messages"][-1] == {"role": "assistant", "content": "先看日志，再查驱动。"}
    assert by_item[won.pk]["messages"][-1]["content"] == "胜出的回答 winner"
    assert all(r["task_type"] for r in rows)  # every row keeps its task type
    assert snap.sha256 == hashlib.sha256(services.snapshot_file(snap).read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt,key", [("alpaca", "instruction"), ("sharegpt", "conversations"), ("openai", "messages")])
def test_it_writes_each_format_with_task_types(world, fmt, key):
    approved_items(world.project, 2)
    rows = _rows(_snap(world, format=fmt))
    assert all(key in r and r["task_type"] == "deployment / edge" for r in rows)


def test_it_filters_by_task_type_and_date(world):
    p = world.project
    approved_items(p, 2, task_type="reasoning / multi-step")
    approved_items(p, 3, task_type="deployment / edge", start=10)
    old = approved_items(p, 1, task_type="reasoning", start=20)[0]
    Item.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    snap = _snap(world, task_types=["reasoning"], date_from=(timezone.now() - timedelta(days=1)).date().isoformat())
    assert snap.task_type_histogram == {"reasoning / multi-step": 2}


def test_it_mixes_sources_by_ratio_and_upsamples_task_types(world):
    p = world.project
    approved_items(p, 8)
    for i in range(2):
        ItemFactory(project=p, task_type="short-answer", reference_answer=f"答 {i}")
    snap = _snap(world, sources={"final": {}, "reference": {}}, ratios={"final": 1, "reference": 1})
    assert snap.source_histogram == {"final": 2, "reference": 2}
    snap = _snap(world, sources={"final": {}, "reference": {"upsample": 2}}, task_type_upsample={"short-answer": 3})
    assert snap.source_histogram == {"final": 8, "reference": 12}
    assert snap.task_type_histogram == {"deployment / edge": 8, "short-answer": 12}


def test_it_holds_out_items_with_a_seed_and_keeps_them_out_of_the_file(world):
    approved_items(world.project, 20)
    a = _snap(world, heldout={"fraction": 0.25}, seed=7)
    b = _snap(world, heldout={"fraction": 0.25}, seed=7)
    c = _snap(world, heldout={"n": 5}, seed=8)
    assert len(a.heldout_item_ids) == 5 and a.heldout_item_ids == b.heldout_item_ids
    assert c.heldout_item_ids != a.heldout_item_ids and len(c.heldout_item_ids) == 5
    assert a.sha256 == b.sha256 and a.row_count == 15
    assert not {r["item_id"] for r in _rows(a)} & set(a.heldout_item_ids)


def test_it_never_changes_the_file_or_hash_when_labels_change(world):
    items = approved_items(world.project, 4)
    snap = _snap(world)
    path = services.snapshot_file(snap)
    content, sha = path.read_bytes(), snap.sha256
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    Item.objects.filter(pk=items[0].pk).update(final_values={"answer": "改过的答案 changed"})
    snap.refresh_from_db()
    assert path.read_bytes() == content and snap.sha256 == sha
    newer = _snap(world)
    assert newer.sha256 != sha and "改过的答案" in services.snapshot_file(newer).read_text(encoding="utf-8")
    assert path.read_bytes() == content


@pytest.mark.parametrize("recipe,field,text", [
    ({"sources": {"gold": {}}}, "sources", "Unknown source"),
    ({"heldout": {"fraction": 2}}, "heldout.fraction", "between 0 and 0.9"),
    ({"sources": {"final": {"upsample": -1}}}, "sources.final.upsample", "between"),
    ({"date_from": "yesterday"}, "date_from", "YYYY-MM-DD"),
    ({"format": "csv"}, "format", "alpaca"),
    ({"task_types": ["nope"]}, "sources", "No approved example"),
])
def test_it_refuses_a_bad_recipe_naming_the_field(world, recipe, field, text):
    approved_items(world.project, 2)
    with pytest.raises(ValidationError) as exc:
        _snap(world, **recipe)
    assert field in exc.value.message_dict and text in " ".join(exc.value.message_dict[field])
    assert not DatasetSnapshot.objects.exists()


def test_it_creates_lists_shows_and_downloads_snapshots_in_the_browser(world, client_as, django_assert_num_queries):
    approved_items(world.project, 6)
    client = client_as(world.users["manager"])
    url = reverse("training-snapshot-create", kwargs={"project_id": world.project.pk})
    r = client.post(url, {"name": "批次 1", "format": "sharegpt", "sources": ["final"], "heldout_n": "2", "seed": "0"})
    assert r.status_code == 302, r.content.decode()[:2000]
    snap = DatasetSnapshot.objects.get()
    assert snap.format == "sharegpt" and len(snap.heldout_item_ids) == 2 and snap.row_count == 4
    _snap(world)
    with django_assert_num_queries(7):  # session, user, project, roles, nav, snapshots: not one per row
        r = client.get(reverse("training-snapshot-list", kwargs={"project_id": world.project.pk}))
    assert "批次 1" in r.content.decode() and snap.sha256[:12] in r.content.decode()
    r = client.get(reverse("training-snapshot-detail", kwargs={"project_id": world.project.pk, "snapshot_id": snap.pk}))
    assert snap.sha256 in r.content.decode() and "deployment / edge" in r.content.decode()
    r = client.get(reverse("training-snapshot-download", kwargs={"project_id": world.project.pk, "snapshot_id": snap.pk}))
    body = b"".join(r.streaming_content)
    assert hashlib.sha256(body).hexdigest() == snap.sha256 == r["X-Content-SHA256"]


def test_it_shows_form_errors_for_a_bad_recipe(world, client_as):
    approved_items(world.project, 2)
    url = reverse("training-snapshot-create", kwargs={"project_id": world.project.pk})
    r = client_as(world.users["manager"]).post(url, {"name": "x", "format": "openai", "sources": ["final"],
                                                     "heldout_fraction": "3", "seed": "0", "ratios": "final"})
    assert r.status_code == 400 and "name=number" in r.content.decode()
    assert not DatasetSnapshot.objects.exists()


def test_it_creates_snapshots_through_the_api(world, api_as):
    approved_items(world.project, 5)
    api = api_as(world.users["manager"])
    url = reverse("api-snapshot-list", kwargs={"project_id": world.project.pk})
    r = api.post(url, {"name": "api 快照", "recipe": {"format": "alpaca", "heldout": {"n": 1}}}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["row_count"] == 4 and r.json()["format"] == "alpaca"
    r = api.post(url, {"name": "bad", "recipe": {"heldout": {"fraction": -1}}}, format="json")
    assert r.status_code == 400 and "heldout.fraction" in r.json()["errors"]
    assert api.get(url).json()["count"] == 1
    r = api_as(world.users["annotator"]).post(url, {"name": "x"}, format="json")
    assert r.status_code == 404


def test_it_holds_out_whole_groups_and_keeps_their_rows_as_an_evaluation_file(world):
    items = approved_items(world.project, 24)
    for i, item in enumerate(items):
        item.metadata = {"template": f"tpl-{i % 6}"}
        item.save(update_fields=["metadata"])
    a = _snap(world, heldout={"fraction": 0.34, "by": "metadata.template"}, seed=3)
    assert a.heldout_item_ids == _snap(world, heldout={"fraction": 0.34, "by": "metadata.template"},
                                       seed=3).heldout_item_ids
    template_of = {it.pk: it.metadata["template"] for it in items}
    held_templates = {template_of[i] for i in a.heldout_item_ids}
    trained_templates = {template_of[r["item_id"]] for r in _rows(a)}
    assert len(held_templates) == 2 and len(a.heldout_item_ids) == 8  # two whole templates of six
    assert not held_templates & trained_templates and len(trained_templates) == 4
    heldout_path = services.snapshot_heldout_verify(snapshot=a)
    rows = [json.loads(line) for line in heldout_path.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["item_id"] for r in rows) == a.heldout_item_ids
    assert hashlib.sha256(heldout_path.read_bytes()).hexdigest() == a.heldout_sha256
    assert rows[0]["messages"][-1]["role"] == "assistant" and rows[0]["messages"][-1]["content"]
    with pytest.raises(ValidationError, match="not a group"):
        _snap(world, heldout={"fraction": 0.2, "by": "colour"})
