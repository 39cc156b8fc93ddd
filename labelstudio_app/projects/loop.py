"""Where a project stands in the loop, for its overview: items labelled -> (candidate answers) -> snapshot ->
training run -> new model version -> round against the parent -> judgments, and the viewer's next step.
Candidate answers are optional (a run trains on labels; its round generates the answers it needs), so they are
shown but never proposed as the next step.

Each domain registers its stages in its AppConfig.ready(), so `projects` shows the whole loop without importing
the domains above it.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.projects.models import Item, Project


@dataclass(frozen=True)
class Stage:
    order: int
    label: str
    count: Callable[[Project], int]  # how many of this stage's results the project has
    action: str  # the step that produces them
    url_name: str  # where that step is taken (a project page)
    roles: tuple  # who may take it
    admin_only: bool = False  # training runs: only admins launch them
    optional: bool = False  # shown, never the next step


_STAGES: list[Stage] = []
_WHO = {R.MANAGER: _("a manager"), R.ANNOTATOR: _("an annotator"), R.REVIEWER: _("a reviewer")}


def stage_register(stage: Stage) -> None:
    _STAGES.append(stage)
    _STAGES.sort(key=lambda s: s.order)


def project_loop(*, project: Project, roles, is_admin: bool) -> dict:
    """Each stage with its count; `next` is the first stage with nothing yet, and whether this viewer can act."""
    stages, nxt = [], None
    for stage in _STAGES:
        n = stage.count(project)
        row = {"label": stage.label, "count": n, "reached": n > 0}
        stages.append(row)
        if nxt is None and not n and not stage.optional:
            may = is_admin if stage.admin_only else bool(set(stage.roles) & set(roles or ()))
            nxt = {"stage": stage.label, "action": stage.action, "may": may,
                   "url": reverse(stage.url_name, kwargs={"project_id": project.pk}) if may else None,
                   "who": _("an admin") if stage.admin_only else
                   _WHO[next(iter(set(stage.roles) - set(R.MANAGERS)), R.MANAGER)]}
    return {"stages": stages, "next": nxt}


stage_register(Stage(0, _("Items"), lambda p: Item.objects.filter(project=p).count(), _("Import items"),
                     "import-page", R.MANAGERS))
