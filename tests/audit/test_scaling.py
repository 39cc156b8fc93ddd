"""The scaling check on a synthetic family whose precision falls with size: flagged, the disagreeing items
listed, and one call sends them to the relabel / QA queue (labelling's qa_items_enqueue)."""
import pytest

from labelstudio_app.audit import selectors, services
from labelstudio_app.labelling.models import Annotation
from labelstudio_app.projects.models import Item
from tests.audit.factories import falling_family, family, labelled_project, run_with_predictions
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LABELS = ["yes"] * 10 + ["no"] * 10


def test_it_flags_a_family_whose_precision_falls_with_size():
    project, items = labelled_project(labels=LABELS)
    run = run_with_predictions(project, items, falling_family(project, items))
    report = selectors.audit_report(run=run)
    values = [m["value"] for m in report["models"]]
    assert values == pytest.approx([1.0, 10 / 12, 10 / 14, 10 / 16])  # precision of "yes", smallest first
    assert report["scaling"]["flagged"] and report["scaling"]["verdict"] == "flagged"
    assert report["scaling"]["rho"] == pytest.approx(-1.0)
    assert report["models"][0]["report"]["unparseable"] == 1
    # The larger half (7.6B, 14.7B) agree on "yes" for items 10-13, which humans labelled "no".
    listed = report["disagreements"]["items"]
    assert [d["id"] for d in listed] == [i.pk for i in items[10:14]]
    assert {(d["human"], d["models_say"]) for d in listed} == {("no", "yes")}


def test_it_passes_a_family_whose_precision_rises():
    project, items = labelled_project(labels=LABELS)
    m0, m1, m2, m3 = family(project)
    yes10 = ["yes"] * 10
    run = run_with_predictions(project, items, {
        m0: yes10 + ["yes"] * 6 + ["no"] * 4, m1: yes10 + ["yes"] * 4 + ["no"] * 6,
        m2: yes10 + ["yes"] * 2 + ["no"] * 8, m3: yes10 + ["no"] * 10})
    report = selectors.audit_report(run=run)
    assert report["scaling"]["verdict"] == "rises" and not report["scaling"]["flagged"]
    assert report["disagreements"]["items"] == []


def test_it_sends_the_disagreeing_items_to_relabel():
    reviewer = UserFactory()
    project, items = labelled_project(labels=LABELS)
    run = run_with_predictions(project, items, falling_family(project, items))
    sent = services.audit_disagreements_send(run=run, user=reviewer)
    assert sent == {"items": 4, "annotations": 4}
    queued = Annotation.objects.filter(qa_requested_at__isnull=False)
    assert sorted(queued.values_list("item_id", flat=True)) == [i.pk for i in items[10:14]]
    assert all(a.status == Annotation.Status.SUBMITTED and f"Label audit #{run.pk}" in a.qa_reason for a in queued)
    # the items keep their label until a reviewer decides
    stored = Item.objects.filter(pk__in=[i.pk for i in items[10:14]])
    assert [i.final_values for i in stored] == [{"needs_context": "no"}] * 4


def test_it_reports_metrics_per_task_type():
    project, items = labelled_project(labels=LABELS)
    run = run_with_predictions(project, items, falling_family(project, items))
    largest = selectors.audit_report(run=run)["models"][-1]
    by_type = {t["task_type"]: t["report"] for t in largest["per_task_type"]}
    assert set(by_type) == {"deployment / edge", "usage / api"}
    assert by_type["deployment / edge"]["n"] + by_type["usage / api"]["n"] == 20


def test_it_refuses_to_send_items_to_relabel_without_a_scaling_verdict():
    from labelstudio_app.core.errors import Conflict

    project, items = labelled_project(labels=LABELS)
    m0, *_ = family(project)
    run = run_with_predictions(project, items, {m0: ["no"] * 20})  # one model: no verdict on size possible
    assert selectors.audit_report(run=run)["scaling"]["verdict"] == "not_enough"
    with pytest.raises(Conflict, match="Not enough models of different sizes"):
        services.audit_disagreements_send(run=run, user=UserFactory())
    assert not Annotation.objects.filter(qa_requested_at__isnull=False).exists()
