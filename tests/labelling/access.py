from datetime import timedelta

from django.utils import timezone

from labelstudio_app.labelling.models import Annotation, Assignment
from labelstudio_app.projects.schema import schema_validate
from tests.access_rules import ANNOTATORS, MANAGERS, MEMBERS, REVIEWERS, Rule
from tests.labelling.factories import DEMO_SCHEMA, items_add


def setup(world):
    project = world.project
    project.label_schema = schema_validate(DEMO_SCHEMA)
    project.save(update_fields=["label_schema"])
    label_item, qa_item = items_add(project, 2)
    world.extra["label_item"] = label_item
    now = timezone.now()
    # a submit needs the caller's own lease: every persona that may label holds one on label_item
    Assignment.objects.bulk_create([Assignment(item=label_item, project=project, annotator=world.users[p],
                                               leased_at=now, leased_until=now + timedelta(hours=1))
                                    for p in ("admin", "manager", "annotator")])
    world.extra["qa_annotation"] = Annotation.objects.create(
        item=qa_item, annotator=world.users["annotator"], values={"needs_context": "yes"},
        qa_requested_at=timezone.now(), qa_reason="audit")


def _p(w):
    return {"project_id": w.project.pk}


def _item(w):
    return {"project_id": w.project.pk, "item_id": w.label_item.pk}


def _api_item(w):
    return {"item_id": w.label_item.pk}


def _qa(w):
    return {"project_id": w.project.pk, "annotation_id": w.qa_annotation.pk}


RULES = {
    "label-page": Rule(allowed=ANNOTATORS, kwargs=_p),
    "label-previous": Rule(allowed=ANNOTATORS, kwargs=_p),
    "label-submit": Rule(allowed=ANNOTATORS, kwargs=_item, method="post", data=lambda w: {"q_needs_context": "yes"}),
    "label-skip": Rule(allowed=ANNOTATORS, kwargs=_item, method="post", data=lambda w: {}),
    "label-schema": Rule(allowed=MANAGERS, kwargs=_p),
    "label-qa": Rule(allowed=REVIEWERS, kwargs=_p),
    "label-qa-decide": Rule(allowed=REVIEWERS, kwargs=_qa, method="post", data=lambda w: {"action": "accept"}),
    "label-dashboard": Rule(allowed=MANAGERS, kwargs=_p),
    "api-label-schema": Rule(allowed=MEMBERS, kwargs=_p, api=True),
    "api-label-next": Rule(allowed=ANNOTATORS, kwargs=_p, method="post", api=True, data=lambda w: {}, fmt="json"),
    "api-label-submit": Rule(allowed=ANNOTATORS, kwargs=_api_item, method="post", api=True, fmt="json",
                             data=lambda w: {"values": {"needs_context": "no"}, "time_spent_ms": 900}),
    "api-label-skip": Rule(allowed=ANNOTATORS, kwargs=_api_item, method="post", api=True, data=lambda w: {}),
    "api-label-qa-next": Rule(allowed=REVIEWERS, kwargs=_p, api=True),
    "api-label-qa-decide": Rule(allowed=REVIEWERS, kwargs=lambda w: {"annotation_id": w.qa_annotation.pk},
                                method="post", api=True, fmt="json", data=lambda w: {"action": "accept"}),
    "api-label-dashboard": Rule(allowed=MANAGERS, kwargs=_p, api=True),
}
