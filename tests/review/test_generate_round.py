"""A round that first generates its answers: a real worker runs the generation job on the tiny model,
then the follow-up builds the comparisons and opens the round."""
import pytest

from labelstudio_app.evaluation.services import model_version_create
from labelstudio_app.jobs import services as job_services
from labelstudio_app.jobs.models import Job
from labelstudio_app.review import services
from labelstudio_app.review.models import ComparisonRound
from tests.conftest import wait_for
from tests.evaluation.fixtures import tiny_model_root  # noqa: F401
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.worker


def test_it_generates_then_opens_the_round(worker_process, tiny_model_root):  # noqa: F811
    project = ProjectFactory()
    user = UserFactory(is_staff=True)
    mv_a = model_version_create(project=project, user=user, name="tiny-a", base_model=str(tiny_model_root))
    mv_b = model_version_create(project=project, user=user, name="tiny-b", base_model=str(tiny_model_root))
    items = [ItemFactory(project=project, text=f"怎么部署？#{i}") for i in range(3)]
    worker_process()
    rnd = services.round_create(project=project, user=user, name="generated", model_a=mv_a, model_b=mv_b, items=items,
                                generate=True, params={"max_new_tokens": 6, "seed": 3})
    assert rnd.status == "generating" and rnd.generation_job_id and rnd.comparisons.count() == 0
    assert services.comparison_claim_next(project=project, user=user) is None  # not open yet
    job_services.job_enqueue(job_id=rnd.generation_job_id)  # a transactional test has no commit hook
    wait_for(lambda: ComparisonRound.objects.get(pk=rnd.pk).status == "open", timeout=120,
             what="the round to open after its generation job")
    rnd.refresh_from_db()
    assert Job.objects.get(pk=rnd.generation_job_id).state == "succeeded"
    comps = list(rnd.comparisons.select_related("candidate_a", "candidate_b"))
    assert len(comps) == 3
    assert all(c.candidate_a.params_hash == rnd.params_hash == c.candidate_b.params_hash for c in comps)
    assert {c.candidate_a.model_version_id for c in comps} == {mv_a.pk}
    assert services.comparison_claim_next(project=project, user=user) is not None
    services.round_open_after_generation(job=None, round_id=rnd.pk)  # a second delivery adds nothing
    assert rnd.comparisons.count() == 3
