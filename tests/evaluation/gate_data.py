"""Promotion gate test data: a version and its parent, blind rounds between them with judgments written as
stored rows (one reviewer per comparison), and a training run whose held-out audit has answers."""
from labelstudio_app.jobs.models import Job
from labelstudio_app.review.models import Judgment
from labelstudio_app.review.services import round_create
from labelstudio_app.training.models import DatasetSnapshot, TrainingRun
from tests.audit.factories import run_with_predictions
from tests.factories import ItemFactory, UserFactory
from tests.review.factories import CandidateFactory, ModelVersionFactory

SCORES = {"helpfulness": 4, "honesty": 4, "harmlessness": 4}


def lineage(project, *, names=("parent 基座", "child 微调")):
    parent = ModelVersionFactory(project=project, name=names[0])
    child = ModelVersionFactory(project=project, name=names[1], parent=parent)
    return parent, child


def judged_round(project, version, outcomes: str, *, task_type: str = "deployment / edge", scores=None,
                 version_is_a: bool = True, manager=None):
    """A round of `version` vs its parent with one judgment per letter of `outcomes`, from the version's side:
    w (it won), l (its parent won), t (tie). `scores(i)` -> (version's 3H, parent's 3H) for judgment i."""
    parent = version.parent
    items = [ItemFactory(project=project, task_type=task_type) for _ in outcomes]
    for item in items:
        CandidateFactory(item=item, model_version=version)
        CandidateFactory(item=item, model_version=parent)
    a, b = (version, parent) if version_is_a else (parent, version)
    rnd = round_create(project=project, user=manager, name=f"{a.name} vs {b.name} · {task_type}",
                       model_a=a, model_b=b, items=items)
    reviewer = UserFactory()
    comparisons = {c.item_id: c for c in rnd.comparisons.all()}
    judgments = []
    for i, (item, letter) in enumerate(zip(items, outcomes, strict=True)):
        mine, theirs = scores(i) if scores else (SCORES, SCORES)
        won = {"w": "a", "l": "b", "t": "tie"}[letter]
        if not version_is_a and won != "tie":
            won = "b" if won == "a" else "a"
        sides = {"a": mine, "b": theirs} if version_is_a else {"a": theirs, "b": mine}
        judgments.append(Judgment(comparison=comparisons[item.pk], reviewer=reviewer, preference=won,
                                  **{f"{s}_{d}": sides[s][d] for s in "ab" for d in SCORES}))
    Judgment.objects.bulk_create(judgments)
    return rnd


def trained_with_heldout(project, version, items, *, base_answers, new_answers, user=None):
    """A finished training run that made `version` from its parent, with a held-out audit of both on `items`."""
    audit = run_with_predictions(project, items, {version.parent: base_answers, version: new_answers})
    snapshot = DatasetSnapshot.objects.create(project=project, name="snap", path="snapshots/x.jsonl",
                                              sha256="0" * 64, heldout_item_ids=[i.pk for i in items])
    job = Job.objects.create(kind="training", project=project, state=Job.State.SUCCEEDED)
    return TrainingRun.objects.create(project=project, job=job, base_version=version.parent, snapshot=snapshot,
                                      result_version=version, heldout_audit=audit, created_by=user)
