"""The labelling, QA, dashboard and schema pages, as a user sees them."""
import json

import pytest
from django.urls import reverse

from labelstudio_app.labelling import services
from labelstudio_app.labelling.models import Annotation, Assignment
from labelstudio_app.projects.models import Item
from tests.labelling.factories import YES, annotator_add, items_add, labelling_project

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _label_url(project):
    return reverse("label-page", kwargs={"project_id": project.pk})


def test_it_shows_the_conversation_anonymised_with_the_target_highlighted(client_as):
    project, (ann,) = labelling_project(items=0, annotators=1, instructions="只看最后一条消息")
    items_add(project, 1, metadata={"sender": "张三"})
    html = client_as(ann).get(_label_url(project)).content.decode()
    assert "张三" not in html and "李四" not in html  # senders anonymised
    assert '<span class="speaker">A</span>' in html and '<span class="speaker">B</span>' in html
    assert 'class="turn target asker"' in html and "怎么把它部署到 TX2？ #0" in html
    assert "只看最后一条消息" in html  # instructions visible
    assert 'data-key="1"' in html and "需要结合上下文吗？" in html
    assert "0 done by me / 1 items" in html


def test_it_escapes_imported_text(client_as):
    project, (ann,) = labelling_project(items=0, annotators=1)
    Item.objects.create(project=project, text="<script>alert(1)</script>",
                        context=[{"sender": "<b>x</b>", "text": "<img src=x onerror=alert(2)>"}])
    html = client_as(ann).get(_label_url(project)).content.decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "<b>x</b>" not in html


def test_it_submits_by_htmx_and_swaps_in_the_next_item(client_as):
    project, (ann,) = labelling_project(items=2, annotators=1)
    i1, i2 = Item.objects.filter(project=project).order_by("id")
    client = client_as(ann)
    client.get(_label_url(project))
    r = client.post(reverse("label-submit", kwargs={"project_id": project.pk, "item_id": i1.pk}),
                    {"q_needs_context": "yes", "q_task_type": "deployment / edge", "q_rewrite": "改写",
                     "q_flags": ["robust_prompt"], "time_spent_ms": "1500"}, **HTMX)
    html = r.content.decode()
    assert r.status_code == 200 and "<html" not in html  # a fragment, not a page
    assert f"#{i2.pk - i1.pk}" in html or "TX2？ #1" in html
    assert "1 done by me / 2 items" in html
    a = Annotation.objects.get(item=i1)
    assert a.values == {"needs_context": "yes", "task_type": "deployment / edge", "rewrite": "改写",
                        "flags": ["robust_prompt"]}
    assert 0 < a.time_spent_ms <= 1500


def test_it_shows_field_errors_and_keeps_the_item(client_as):
    project, (ann,) = labelling_project(items=1, annotators=1)
    item = Item.objects.get(project=project)
    client = client_as(ann)
    client.get(_label_url(project))
    r = client.post(reverse("label-submit", kwargs={"project_id": project.pk, "item_id": item.pk}),
                    {"q_task_type": "deployment"}, **HTMX)
    html = r.content.decode()
    assert "needs_context: is required" in html and "choose a sub-type of" in html
    assert not Annotation.objects.exists()


def test_it_skips_and_goes_back_to_the_previous_annotation_for_editing(client_as):
    project, (ann,) = labelling_project(items=3, annotators=1)
    i1, i2, _i3 = Item.objects.filter(project=project).order_by("id")
    client = client_as(ann)
    client.get(_label_url(project))
    client.post(reverse("label-submit", kwargs={"project_id": project.pk, "item_id": i1.pk}),
                {"q_needs_context": "no"}, **HTMX)
    r = client.post(reverse("label-skip", kwargs={"project_id": project.pk, "item_id": i2.pk}), **HTMX)
    assert "TX2？ #2" in r.content.decode()  # i3: the skipped i2 went to the back
    r = client.get(reverse("label-previous", kwargs={"project_id": project.pk}), **HTMX)
    html = r.content.decode()
    assert "TX2？ #0" in html and "Editing your earlier annotation" in html
    assert 'value="no" data-key="2" checked' in html  # my earlier answer, editable
    r = client.post(reverse("label-submit", kwargs={"project_id": project.pk, "item_id": i1.pk}),
                    {"q_needs_context": "yes"}, **HTMX)
    assert "TX2？ #2" in r.content.decode()  # back to the item I hold
    assert Annotation.objects.get(item=i1).values == {"needs_context": "yes"}


def test_it_keeps_reviewers_out_of_labelling_unless_they_are_annotators(client_as):
    project, _ = labelling_project(items=1)
    reviewer = annotator_add(project, role="reviewer")
    assert client_as(reviewer).get(_label_url(project)).status_code == 404
    annotator_add(project, user=reviewer)
    assert client_as(reviewer).get(_label_url(project)).status_code == 200


def test_it_runs_qa_accept_fix_reject_from_the_page(client_as):
    project, (a, b) = labelling_project(overlap=1, qa_required=True, items=3, annotators=2)
    reviewer = annotator_add(project, role="reviewer")
    items = list(Item.objects.filter(project=project).order_by("id"))
    for item in items:
        services.item_next_for_annotator(project=project, user=a)
        services.annotation_submit(item=item, user=a, values=YES)
    assert set(Item.objects.filter(project=project).values_list("status", flat=True)) == {"labelled"}
    client = client_as(reviewer)
    html = client.get(reverse("label-qa", kwargs={"project_id": project.pk})).content.decode()
    assert "3 annotations waiting for review" in html and a.username in html
    anns = list(Annotation.objects.filter(item__project=project).order_by("item_id"))

    def decide(annotation, **data):
        url = reverse("label-qa-decide", kwargs={"project_id": project.pk, "annotation_id": annotation.pk})
        return client.post(url, data, **HTMX).content.decode()

    html = decide(anns[0], action="accept")
    assert "2 annotations waiting for review" in html
    html = decide(anns[1], action="fix", q_needs_context="not_question")
    assert "1 annotation waiting for review" in html
    decide(anns[2], action="reject")
    i0, i1, i2 = (Item.objects.get(pk=i.pk) for i in items)
    assert (i0.status, i0.final_values) == ("done", YES)
    assert (i1.status, i1.final_values) == ("done", {"needs_context": "not_question"})
    assert (i2.status, i2.final_values) == ("open", None)
    # the rejected item goes back to the queue, to another annotator
    assert services.item_next_for_annotator(project=project, user=a) is None
    assert services.item_next_for_annotator(project=project, user=b) == i2
    assert Assignment.objects.get(item=i2, annotator=a).state == "rejected"


def test_it_shows_a_fix_error_naming_the_field(client_as):
    project, (a,) = labelling_project(qa_required=True, items=1, annotators=1)
    reviewer = annotator_add(project, role="reviewer")
    item = services.item_next_for_annotator(project=project, user=a)
    annotation = services.annotation_submit(item=item, user=a, values=YES)
    url = reverse("label-qa-decide", kwargs={"project_id": project.pk, "annotation_id": annotation.pk})
    html = client_as(reviewer).post(url, {"action": "fix", "q_needs_context": ""}, HTTP_HX_REQUEST="true").content.decode()
    assert "needs_context: is required" in html
    assert Annotation.objects.get(pk=annotation.pk).status == "submitted"


def test_it_edits_the_schema_and_shows_errors_naming_the_question(client_as):
    project, _ = labelling_project()
    manager = annotator_add(project, role="manager")
    url = reverse("label-schema", kwargs={"project_id": project.pk})
    client = client_as(manager)
    bad = [{"name": "q", "kind": "single_choice", "options": [{"value": "a", "key": "1"}, {"value": "b", "key": "1"}]}]
    html = client.post(url, {"label_schema": json.dumps(bad), "instructions": "x"}).content.decode()
    assert "question 1 (q): option key &#x27;1&#x27; is used twice" in html
    html = client.post(url, {"label_schema": "[{", "instructions": ""}).content.decode()
    assert "Not valid JSON: line 1" in html
    good = [{"name": "clarity", "kind": "rating", "min": 1, "max": 5, "label": "清晰度"}]
    r = client.post(url, {"label_schema": json.dumps(good), "instructions": "读完再标"})
    assert r.status_code == 302
    project.refresh_from_db()
    assert project.label_schema[0]["max"] == 5 and project.instructions == "读完再标"
    assert "清晰度" in client.get(url).content.decode()  # the preview


def test_it_shows_the_dashboard_numbers(client_as, django_assert_max_num_queries):
    project, (a, b) = labelling_project(overlap=2, items=4, annotators=2)
    manager = annotator_add(project, role="manager")
    items_add(project, 1, is_gold=True, gold_values=YES)
    for u in (a, b):
        while (item := services.item_next_for_annotator(project=project, user=u)) is not None:
            values = YES if (u == a or item.pk % 2) else {**YES, "needs_context": "no"}
            services.annotation_submit(item=item, user=u, values=values, time_spent_ms=2000)
    client = client_as(manager)
    with django_assert_max_num_queries(12):
        html = client.get(reverse("label-dashboard", kwargs={"project_id": project.pk})).content.decode()
    assert "Cohen's kappa" in html and "Krippendorff's alpha" in html
    # The charts: progress by day (10 annotations today), throughput per annotator, alpha per question.
    assert "Labelling progress by day" in html and "annotations (cumulative): " in html and "· 10</title>" in html
    assert f"<title>{a.username}: 5</title>" in html and f"<title>{b.username}: 5</title>" in html
    assert "Krippendorff&#x27;s alpha per question" in html and "Show as a table" in html
    data = client.get(reverse("api-label-dashboard", kwargs={"project_id": project.pk})).json()
    assert data["items"]["total"] == 5 and data["annotations"] == 10
    by_name = {x["username"]: x for x in data["annotators"]}
    assert by_name[a.username]["gold"]["overall"] == 1.0 and by_name[a.username]["median_s"] == 2.0
    assert {q["name"] for q in data["questions"]} == {"needs_context", "task_type", "flags"}


def test_the_demo_projects_label_page_opens(client):
    """The demo schema has a question without a label (its name stands in): the keys and widgets cope."""
    from labelstudio_app.demo import seed as demo
    from tests.factories import ItemFactory

    users = demo.demo_users(say=lambda *_: None)
    project = demo.demo_project(users=users)
    ItemFactory(project=project, text="怎么部署？", context=[{"sender": "张三", "text": "mmpose 好用", "time": ""}])
    client.force_login(users["annotator"])
    html = client.get(_label_url(project)).content.decode()
    assert "怎么部署？" in html and "flags" in html
