from tests.access_rules import MANAGERS, Rule
from tests.audit.factories import falling_family, labelled_project, run_with_predictions
from tests.evaluation.factories import ModelVersionFactory


def setup(world):
    _, items = labelled_project(labels=["yes"] * 10 + ["no"] * 10, project=world.project)
    answers = falling_family(world.project, items)
    world.extra["audit_run"] = run_with_predictions(world.project, items, answers)
    world.extra["audit_versions"] = list(answers)
    world.extra["audit_new_version"] = ModelVersionFactory(project=world.project, name="tiny audit", parameter_count=1)


def _project(w):
    return {"project_id": w.project.pk}


def _run(w):
    return {"project_id": w.project.pk, "run_id": w.audit_run.pk}


def _api_run(w):
    return {"run_id": w.audit_run.pk}


def _new_run(w):
    return {"question": "needs_context", "model_versions": [w.audit_new_version.pk], "positive_class": "yes"}


RULES = {
    "audit-list": Rule(allowed=MANAGERS, kwargs=_project),
    "audit-create": Rule(allowed=MANAGERS, kwargs=_project, method="post",
                         data=lambda w: {**_new_run(w), "metric": "precision", "tolerance": "0.02",
                                         "temperature": "0", "max_new_tokens": "16"}),
    "audit-compare": Rule(allowed=MANAGERS, kwargs=_project),
    "audit-detail": Rule(allowed=MANAGERS, kwargs=_run),
    "audit-relabel": Rule(allowed=MANAGERS, kwargs=_run, method="post", data=lambda w: {}),
    "audit-export": Rule(allowed=MANAGERS, kwargs=lambda w: {**_run(w), "fmt": "csv"}),
    "api-audit-run-list": Rule(allowed=MANAGERS, kwargs=_project, api=True),
    "api-audit-run-detail": Rule(allowed=MANAGERS, kwargs=_api_run, api=True),
    "api-audit-run-metrics": Rule(allowed=MANAGERS, kwargs=_api_run, api=True),
    "api-audit-run-disagreements": Rule(allowed=MANAGERS, kwargs=_api_run, api=True),
    "api-audit-run-predictions": Rule(allowed=MANAGERS, kwargs=_api_run, api=True),
    "api-audit-run-relabel": Rule(allowed=MANAGERS, kwargs=_api_run, method="post", api=True, data=lambda w: {},
                                  fmt="json"),
}
