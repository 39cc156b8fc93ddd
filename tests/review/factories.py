"""Review test data: model versions with distinctive names, candidates, rounds built through the service."""
import factory

from labelstudio_app.evaluation.models import Candidate, ModelVersion
from tests.factories import ItemFactory, ProjectFactory


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"zebrafish-7b-secret-v{n}")
    base_model = factory.Sequence(lambda n: f"/models/base/qwen-hidden-basepath-{n}")
    adapter_path = factory.Sequence(lambda n: f"/artifacts/adapters/lora-hidden-adapter-{n}")


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    item = factory.SubFactory(ItemFactory)
    model_version = factory.SubFactory(ModelVersionFactory)
    params_hash = "p0"
    text = factory.Sequence(lambda n: f"可以，用 TensorRT 部署。answer {n}")
    prompt_tokens = 4321
    completion_tokens = 8765
    latency_ms = 98765


def review_setup(project, *, n_items=4, with_b=True, texts=None):
    """Two versions (or one plus reference answers) and a candidate of each for n items."""
    mv_a = ModelVersionFactory(project=project)
    mv_b = ModelVersionFactory(project=project) if with_b else None
    items = []
    for i in range(n_items):
        item = ItemFactory(project=project, reference_answer=f"参考答案 reference {i}", external_id=f"ext-{i}")
        ta, tb = texts[i] if texts else (f"回答A answer-a {i}", f"回答B answer-b {i}")
        CandidateFactory(item=item, model_version=mv_a, text=ta)
        if mv_b:
            CandidateFactory(item=item, model_version=mv_b, text=tb)
        items.append(item)
    return mv_a, mv_b, items


def lease(comparison, user):
    """Hands `comparison` to `user` as the queue would (a submit needs the reviewer's own lease)."""
    from datetime import timedelta

    from django.utils import timezone

    from labelstudio_app.review.models import ComparisonClaim

    ComparisonClaim.objects.get_or_create(comparison=comparison, reviewer=user,
                                          defaults={"expires_at": timezone.now() + timedelta(minutes=20)})
