"""QA services (including the label audit's qa_items_enqueue) and the REST API."""
import pytest
from django.urls import reverse

from labelstudio_app.labelling import selectors, services
from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.models import Item
from tests.labelling.factories import DEMO_SCHEMA, NO, YES, annotator_add, items_add, labelling_project

pytestmark = pytest.mark.django_db


def _label_all(project, users, values=YES):
    for u in users:
        while (item := services.item_next_for_annotator(project=project, user=u)) is not None:
            services.annotation_submit(item=item, user=u, values=values)


def test_it_sends_audited_items_back_to_qa_with_the_reason(client_as):
    project, (a,) = labelling_project(items=3, annotators=1)
    reviewer = annotator_add(project, role="reviewer")
    _label_all(project, [a])
    i1, i2, i3 = Item.objects.filter(project=project).order_by("id")
    assert i1.status == "done" and selectors.qa_pending_count(project=project) == 0
    queued = services.qa_items_enqueue(project=project, items=[i1, i2.pk], user=reviewer,
                                       reason="larger models disagree with this label")
    assert queued == 2 and selectors.qa_pending_count(project=project) == 2
    assert Item.objects.get(pk=i1.pk).final_values == YES  # kept until a reviewer decides
    html = client_as(reviewer).get(reverse("label-qa", kwargs={"project_id": project.pk})).content.decode()
    assert "larger models disagree with this label" in html
    services.annotation_review(annotation=Annotation.objects.get(item=i1), user=reviewer, action="fix",
                               values=NO)
    services.annotation_review(annotation=Annotation.objects.get(item=i2), user=reviewer, action="reject")
    assert Item.objects.get(pk=i1.pk).final_values == NO
    assert Item.objects.get(pk=i2.pk).status == "open"  # back in the queue for relabelling
    assert selectors.qa_pending_count(project=project) == 0
    other_project, _ = labelling_project(items=1)
    assert services.qa_items_enqueue(project=other_project, items=[i3], user=reviewer, reason="x") == 0


def test_it_refuses_a_second_decision_on_the_same_annotation():
    project, (a,) = labelling_project(qa_required=True, items=1, annotators=1)
    reviewer = annotator_add(project, role="reviewer")
    _label_all(project, [a])
    annotation = Annotation.objects.get()
    services.annotation_review(annotation=annotation, user=reviewer, action="accept")
    with pytest.raises(Exception) as exc:
        services.annotation_review(annotation=annotation, user=reviewer, action="reject")
    assert "already reviewed" in str(exc.value)
    assert Item.objects.get().status == "done"


def test_it_labels_through_the_api(api_as):
    project, (a,) = labelling_project(items=0, annotators=1)
    items_add(project, 1, metadata={"sender": "王五"})
    gold, = items_add(project, 1, is_gold=True, gold_values=YES)
    client = api_as(a)
    r = client.post(reverse("api-label-next", kwargs={"project_id": project.pk}), format="json")
    assert r.status_code == 200
    body = r.json()
    item = body["item"]
    assert body["progress"] == {"mine": 0, "total": 2}
    assert [t["speaker"] for t in item["conversation"]] == ["A", "B", "C"] and item["conversation"][-1]["target"]
    assert "王五" not in r.content.decode()
    r = client.post(reverse("api-label-submit", kwargs={"item_id": item["id"]}),
                    {"values": {"needs_context": "maybe"}}, format="json")
    assert r.status_code == 400 and "needs_context" in r.json()["errors"]
    r = client.post(reverse("api-label-submit", kwargs={"item_id": item["id"]}),
                    {"values": YES, "time_spent_ms": 800}, format="json")
    assert r.status_code == 201 and r.json()["values"] == YES
    r = client.post(reverse("api-label-next", kwargs={"project_id": project.pk}), format="json")
    assert r.json()["item"]["id"] == gold.pk and "gold" not in r.content.decode()  # gold looks like any item
    assert client.post(reverse("api-label-skip", kwargs={"item_id": gold.pk})).status_code == 204


def test_it_gets_and_puts_the_schema_through_the_api(api_as):
    project, (a,) = labelling_project(annotators=1)
    manager = annotator_add(project, role="manager")
    url = reverse("api-label-schema", kwargs={"project_id": project.pk})
    assert api_as(a).get(url).json()["label_schema"][0]["name"] == "needs_context"
    assert api_as(a).put(url, {"label_schema": DEMO_SCHEMA}, format="json").status_code == 404
    bad = [{"name": "x", "kind": "rating", "min": 3, "max": 1}]
    r = api_as(manager).put(url, {"label_schema": bad}, format="json")
    assert r.status_code == 400 and "question 1 (x): 'min' (3) must be below 'max' (1)" in r.json()["errors"]["label_schema"][0]
    r = api_as(manager).put(url, {"label_schema": DEMO_SCHEMA[:1], "instructions": "看上下文"}, format="json")
    assert r.status_code == 200
    project.refresh_from_db()
    assert len(project.label_schema) == 1 and project.instructions == "看上下文"


def test_it_reviews_through_the_api(api_as):
    project, (a,) = labelling_project(qa_required=True, items=1, annotators=1)
    reviewer = annotator_add(project, role="reviewer")
    _label_all(project, [a])
    client = api_as(reviewer)
    body = client.get(reverse("api-label-qa-next", kwargs={"project_id": project.pk})).json()
    assert body["pending"] == 1 and body["annotation"]["values"] == YES
    url = reverse("api-label-qa-decide", kwargs={"annotation_id": body["annotation"]["id"]})
    r = client.post(url, {"action": "fix", "values": {"needs_context": "nope"}}, format="json")
    assert r.status_code == 400 and "needs_context" in r.json()["errors"]
    r = client.post(url, {"action": "fix", "values": NO}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "fixed"
    assert Item.objects.get().final_values == NO


def test_it_lists_the_api_in_the_openapi_schema(api_as):
    _project, (a,) = labelling_project(annotators=1)
    text = api_as(a).get(reverse("api-schema")).content.decode()
    for path in ("/api/projects/{project_id}/next/", "/api/items/{item_id}/annotation/",
                 "/api/projects/{project_id}/schema/", "/api/annotations/{annotation_id}/qa/"):
        assert path in text


def test_it_keeps_a_reviewers_fix_when_the_annotator_resubmits(api_as, client_as):
    project, (a,) = labelling_project(qa_required=True, items=1, annotators=1)
    reviewer = annotator_add(project, role="reviewer")
    _label_all(project, [a], values=YES)
    annotation = Annotation.objects.get()
    services.annotation_review(annotation=annotation, user=reviewer, action="fix", values=NO)
    item = Item.objects.get()
    r = api_as(a).post(reverse("api-label-submit", kwargs={"item_id": item.pk}),
                       {"values": YES, "time_spent_ms": 500}, format="json")
    assert r.status_code == 409 and "already decided" in r.json()["detail"]
    page = client_as(a).post(reverse("label-submit", kwargs={"project_id": project.pk, "item_id": item.pk}),
                             {"q_needs_context": "yes", "q_task_type": "deployment / edge"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "already decided" in page.content.decode()
    annotation.refresh_from_db()
    assert annotation.status == "fixed" and annotation.qa_values == NO and annotation.values == YES
    item.refresh_from_db()
    assert item.status == "done" and item.final_values == NO


def test_it_lets_nobody_review_their_own_annotation(api_as, client_as):
    project, (a,) = labelling_project(qa_required=True, items=1, annotators=1)
    annotator_add(project, role="reviewer", user=a)  # the same person holds both roles
    _label_all(project, [a])
    annotation = Annotation.objects.get()
    assert selectors.annotation_next_for_qa(project=project, reviewer=a) is None
    assert api_as(a).get(reverse("api-label-qa-next", kwargs={"project_id": project.pk})).json()["annotation"] is None
    r = api_as(a).post(reverse("api-label-qa-decide", kwargs={"annotation_id": annotation.pk}),
                       {"action": "accept"}, format="json")
    assert r.status_code == 403
    page = client_as(a).post(reverse("label-qa-decide", kwargs={"project_id": project.pk,
                                                                "annotation_id": annotation.pk}),
                             {"action": "accept"}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "your own annotation" in page.content.decode()
    annotation.refresh_from_db()
    assert annotation.status == "submitted" and Item.objects.get().status == "labelled"


def test_it_decides_only_annotations_waiting_for_qa(api_as):
    """An item below its overlap is not in QA: accepting its one annotation must not make it done."""
    project, (a,) = labelling_project(overlap=2, items=1, annotators=1)
    reviewer = annotator_add(project, role="reviewer")
    _label_all(project, [a])
    annotation = Annotation.objects.get()
    assert Item.objects.get().status == "open"
    r = api_as(reviewer).post(reverse("api-label-qa-decide", kwargs={"annotation_id": annotation.pk}),
                              {"action": "accept"}, format="json")
    assert r.status_code == 400 and "not waiting for QA" in str(r.json())
    annotation.refresh_from_db()
    item = Item.objects.get()
    assert annotation.status == "submitted" and item.status == "open" and item.final_values is None


def test_the_labelled_task_type_becomes_the_items_task_type():
    project, (a,) = labelling_project(items=0, annotators=1)
    imported, = items_add(project, 1, task_type="usage / api")
    _label_all(project, [a], values=YES)
    item = Item.objects.get(pk=imported.pk)
    assert item.status == "done" and item.task_type == "deployment / edge"
    assert list(Item.objects.filter(project=project, task_type="deployment / edge")) == [item]  # filters see it
    reviewer = annotator_add(project, role="reviewer")
    services.qa_items_enqueue(project=project, items=[item], user=reviewer, reason="check")
    services.annotation_review(annotation=Annotation.objects.get(item=item), user=reviewer, action="fix", values=NO)
    assert Item.objects.get(pk=item.pk).task_type == "install / build"  # the reviewer's fix wins


def test_an_item_keeps_its_imported_task_type_until_a_label_sets_one():
    project, (a,) = labelling_project(items=0, annotators=1)
    imported, = items_add(project, 1, task_type="usage / api")
    _label_all(project, [a], values={"needs_context": "no"})
    assert Item.objects.get(pk=imported.pk).task_type == "usage / api"
