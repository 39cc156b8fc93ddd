from tests.access_rules import MEMBERS, Rule


def _project(w):
    return {"project_id": w.project.pk}


RULES = {
    "project-detail": Rule(allowed=MEMBERS, kwargs=_project),
}
