"""The audit pages and API as a manager sees them."""
import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labelstudio_app.accounts.models import Membership
from labelstudio_app.audit.models import AuditRun
from labelstudio_app.jobs.models import Job
from labelstudio_app.labelling.models import Annotation
from tests.audit.factories import falling_family, family, labelled_project, run_with_predictions
from tests.evaluation.factories import ModelVersionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LABELS = ["yes"] * 10 + ["no"] * 10


@pytest.fixture
def manager():
    return UserFactory(username="mia")


@pytest.fixture
def audited(manager):
    project, items = labelled_project(labels=LABELS)
    Membership.objects.create(user=manager, project=project, role="manager")
    answers = falling_family(project, items)
    run = run_with_predictions(project, items, answers, user=manager)
    return project, items, run, list(answers)


def _detail(run):
    return reverse("audit-detail", kwargs={"project_id": run.project_id, "run_id": run.pk})


def test_it_shows_the_table_chart_verdict_and_disagreements(client_as, manager, audited):
    _project, items, run, _versions = audited
    page = client_as(manager).get(_detail(run)).content.decode()
    assert "<svg" in page and 'class="series series-0"' in page and page.count('<circle class="point') == 4
    assert "Flagged" in page and "qwen-14.7b 模型" in page
    for item in items[10:14]:
        assert item.text in page
    assert page.count('class="disagreement"') == 4
    assert "83.3%" in page  # precision of "yes" for the 1.5B model: 10 / 12
    assert "style=" not in page and "<script>" not in page


def test_it_escapes_imported_text_and_model_names(client_as, manager, audited):
    _project, items, run, versions = audited
    items[10].text = "<script>alert(1)</script> 需要吗"
    items[10].save()
    versions[0].name = "<img src=x onerror=alert(1)>"
    versions[0].save()
    page = client_as(manager).get(_detail(run)).content.decode()
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 需要吗" in page


def test_it_keeps_the_detail_page_queries_flat(client_as, manager, audited, django_assert_max_num_queries):
    _project, _items, run, _versions = audited
    client = client_as(manager)
    with django_assert_max_num_queries(14):
        assert client.get(_detail(run)).status_code == 200


def test_it_lists_runs_with_a_fixed_number_of_queries(client_as, manager, audited, django_assert_num_queries):
    project, items, _run, versions = audited
    client = client_as(manager)
    url = reverse("audit-list", kwargs={"project_id": project.pk})
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for _ in range(3):
        run_with_predictions(project, items, {versions[0]: ["yes"] * 20})
    with django_assert_num_queries(len(one)):
        page = client.get(url).content.decode()
    assert page.count("第一轮 round 1") == 4


def test_it_starts_an_audit_job_from_the_form(client_as, manager, audited):
    project, items, _run, versions = audited
    r = client_as(manager).post(reverse("audit-create", kwargs={"project_id": project.pk}), {
        "name": "第二轮", "question": "needs_context", "model_versions": [v.pk for v in versions[:2]],
        "positive_class": "yes", "metric": "precision", "tolerance": "0.02", "temperature": "0",
        "max_new_tokens": "16", "keywords": "yes: needs, 要\nno：no need，不用", "regex": ""})
    new = AuditRun.objects.get(name="第二轮")
    assert r.status_code == 302 and r["Location"] == _detail(new)
    assert new.parser["keywords"] == {"yes": ["needs", "要"], "no": ["no need", "不用"]}
    assert new.sampling["temperature"] == 0 and sorted(new.item_ids) == sorted(i.pk for i in items)
    job = Job.objects.get(pk=new.job_id)
    assert job.kind == "audit" and job.queue == "gpu" and job.progress_total == 40 and job.params == {"run_id": new.pk}


def test_it_names_the_bad_line_and_field(client_as, manager, audited):
    project, _items, _run, versions = audited
    client = client_as(manager)
    url = reverse("audit-create", kwargs={"project_id": project.pk})
    base = {"question": "needs_context", "model_versions": [versions[0].pk], "metric": "precision",
            "tolerance": "0.02", "temperature": "0", "max_new_tokens": "16"}
    page = client.post(url, {**base, "keywords": "yes: 要\nmaybe: 也许"}).content.decode()
    assert "line 2" in page and "maybe" in page
    page = client.post(url, {**base, "positive_class": "maybe"}).content.decode()
    assert "is not an option" in page
    page = client.post(url, {**base, "regex": "(unclosed"}, HTTP_HX_REQUEST="true").content.decode()
    assert "does not compile" in page and "<html" not in page
    assert AuditRun.objects.count() == 1


def test_it_sends_disagreements_to_relabel_with_one_click(client_as, manager, audited):
    project, _items, run, _versions = audited
    url = reverse("audit-relabel", kwargs={"project_id": project.pk, "run_id": run.pk})
    r = client_as(manager).post(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "4 items sent" in r.content.decode()
    assert Annotation.objects.filter(qa_requested_at__isnull=False).count() == 4


def test_it_exports_csv_and_json(client_as, manager, audited):
    project, _items, run, _versions = audited
    client = client_as(manager)
    body = client.get(reverse("audit-export", kwargs={"project_id": project.pk, "run_id": run.pk, "fmt": "csv"}))
    rows = list(csv.DictReader(io.StringIO(body.content.decode("utf-8-sig"))))
    assert len(rows) == 80 and rows[0]["model_version"] and "unparseable" in rows[0]
    assert sum(r["unparseable"] == "True" for r in rows) == 1
    data = json.loads(client.get(reverse("audit-export", kwargs={"project_id": project.pk, "run_id": run.pk,
                                                                "fmt": "json"})).content)
    assert data["metrics"]["scaling"]["flagged"] and len(data["predictions"]) == 80
    assert len(data["disagreements"]["items"]) == 4 and "qwen-14.7b 模型" in json.dumps(data, ensure_ascii=False)
    assert client.get(reverse("audit-export", kwargs={"project_id": project.pk, "run_id": run.pk,
                                                      "fmt": "xml"})).status_code == 404


def test_it_compares_a_fine_tuned_version_with_its_parent(client_as, manager):
    project, items = labelled_project(labels=LABELS)
    Membership.objects.create(user=manager, project=project, role="manager")
    parent = ModelVersionFactory(project=project, name="base 0.5B", parameter_count=494_000_000)
    child = ModelVersionFactory(project=project, name="base 0.5B + LoRA", parameter_count=494_000_000,
                                parent=parent, adapter_path="adapters/x")
    run = run_with_predictions(project, items, {parent: ["yes"] * 20, child: ["yes"] * 10 + ["no"] * 10})
    page = client_as(manager).get(_detail(run)).content.decode()
    compare = reverse("audit-compare", kwargs={"project_id": project.pk})
    assert f"{compare}?left={run.pk}:{parent.pk}&amp;right={run.pk}:{child.pk}" in page
    page = client_as(manager).get(compare, {"left": f"{run.pk}:{parent.pk}", "right": f"{run.pk}:{child.pk}"})
    html = page.content.decode()
    assert page.status_code == 200 and "base 0.5B + LoRA" in html
    assert "50.0%" in html and "100.0%" in html  # accuracy before / after
    assert client_as(manager).get(compare, {"left": f"{run.pk}:999999", "right": f"{run.pk}:{child.pk}"}
                                  ).status_code == 404


def test_it_serves_the_api(api_as, manager, audited):
    project, items, run, versions = audited
    api = api_as(manager)
    listed = api.get(reverse("api-audit-run-list", kwargs={"project_id": project.pk})).json()
    assert [r["id"] for r in listed["results"]] == [run.pk]
    metrics = api.get(reverse("api-audit-run-metrics", kwargs={"run_id": run.pk})).json()
    assert metrics["scaling"]["flagged"] and [m["parameter_count"] for m in metrics["models"]] == sorted(
        m["parameter_count"] for m in metrics["models"])
    dis = api.get(reverse("api-audit-run-disagreements", kwargs={"run_id": run.pk})).json()
    assert [d["id"] for d in dis["items"]] == [i.pk for i in items[10:14]]
    preds = api.get(reverse("api-audit-run-predictions", kwargs={"run_id": run.pk})).json()
    assert preds["count"] == 80
    created = api.post(reverse("api-audit-run-list", kwargs={"project_id": project.pk}),
                       {"question": "needs_context", "model_versions": [versions[0].pk], "positive_class": "yes",
                        "keywords": {"yes": ["需要"]}}, format="json")
    assert created.status_code == 201 and created.json()["sampling"]["temperature"] == 0
    bad = api.post(reverse("api-audit-run-list", kwargs={"project_id": project.pk}),
                   {"question": "needs_context", "model_versions": [987654]}, format="json")
    assert bad.status_code == 400 and "987654" in json.dumps(bad.json())
    sent = api.post(reverse("api-audit-run-relabel", kwargs={"run_id": run.pk}), format="json").json()
    assert sent == {"items": 4, "annotations": 4}
    schema = api.get(reverse("api-schema"), HTTP_ACCEPT="application/json").content.decode()
    assert "/api/audit/runs/{run_id}/metrics/" in schema


def test_it_refuses_a_question_without_labelled_items(api_as, manager):
    project, _items = labelled_project(labels=[])
    Membership.objects.create(user=manager, project=project, role="manager")
    (mv,) = family(project, sizes=(1_000_000,))
    r = api_as(manager).post(reverse("api-audit-run-list", kwargs={"project_id": project.pk}),
                             {"question": "needs_context", "model_versions": [mv.pk]}, format="json")
    assert r.status_code == 400 and "no item has a final label" in r.json()["errors"]["question"][0]


def test_it_shows_the_audit_tab_to_managers_only(client_as, manager, audited):
    project = audited[0]
    annotator = UserFactory(username="ann")
    Membership.objects.create(user=annotator, project=project, role="annotator")
    audit_url = reverse("audit-list", kwargs={"project_id": project.pk})
    detail = reverse("project-detail", kwargs={"project_id": project.pk})
    assert audit_url in client_as(manager).get(detail).content.decode()
    assert audit_url not in client_as(annotator).get(detail).content.decode()
    assert client_as(annotator).get(audit_url).status_code == 404


def test_it_redirects_an_htmx_form_to_the_new_run(client_as, manager, audited):
    project, _items, _run, versions = audited
    r = client_as(manager).post(reverse("audit-create", kwargs={"project_id": project.pk}), {
        "question": "needs_context", "model_versions": [versions[-1].pk], "metric": "f1", "tolerance": "0.05",
        "temperature": "0", "max_new_tokens": "8"}, HTTP_HX_REQUEST="true")
    new = AuditRun.objects.exclude(pk=_run.pk).get()
    assert r.status_code == 204 and r["HX-Redirect"] == _detail(new) and new.metric == "f1"


@pytest.mark.timeout(30)
def test_it_refuses_a_backtracking_regex_over_the_api(api_as, manager, audited):
    project, _items, _run, versions = audited
    r = api_as(manager).post(reverse("api-audit-run-list", kwargs={"project_id": project.pk}),
                             {"question": "needs_context", "model_versions": [versions[0].pk], "regex": "(a+)+$"},
                             format="json")
    assert r.status_code == 400 and "too slow" in r.json()["errors"]["regex"][0]
    assert AuditRun.objects.count() == 1


def test_it_scopes_an_audit_to_a_snapshots_heldout_items(api_as, manager, audited):
    from labelstudio_app.training.models import DatasetSnapshot

    project, items, _run, versions = audited
    held = [items[1].pk, items[4].pk, 999999]  # an id that is no longer a labelled item drops out
    snap = DatasetSnapshot.objects.create(project=project, name="s", path="x", sha256="0" * 64, heldout_item_ids=held)
    api = api_as(manager)
    url = reverse("api-audit-run-list", kwargs={"project_id": project.pk})
    body = {"question": "needs_context", "model_versions": [versions[0].pk], "scope": "heldout"}
    created = api.post(url, {**body, "snapshot": snap.pk, "scoring": "likelihood"}, format="json")
    assert created.status_code == 201, created.json()
    run = created.json()
    assert run["item_ids"] == held[:2] and run["scope"] == "heldout" and run["snapshot"] == snap.pk
    assert run["scoring"] == "likelihood"
    missing = api.post(url, body, format="json")
    assert missing.status_code == 400 and "snapshot" in missing.json()["errors"]
    other = DatasetSnapshot.objects.create(project=labelled_project(labels=[])[0], name="o", path="y",
                                           sha256="1" * 64, heldout_item_ids=held)
    foreign = api.post(url, {**body, "snapshot": other.pk}, format="json")
    assert foreign.status_code == 400 and "snapshot" in foreign.json()["errors"]
