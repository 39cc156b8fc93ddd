"""Factories for model versions and candidates (hub ids by default: nothing on disk is checked)."""
import factory

from labelstudio_app.evaluation.models import Candidate, ModelVersion
from labelstudio_app.evaluation.params import params_hash, params_normalise
from tests.factories import ItemFactory, ProjectFactory


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"qwen-0.5b-v{n}")
    base_model = "Qwen/Qwen2.5-0.5B-Instruct"
    parameter_count = 494_032_768


class CandidateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Candidate

    model_version = factory.SubFactory(ModelVersionFactory)
    item = factory.LazyAttribute(lambda o: ItemFactory(project=o.model_version.project))
    sample_index = 0
    params = factory.LazyFunction(lambda: params_normalise({}))
    params_hash = factory.LazyAttribute(lambda o: params_hash(o.params))
    text = "可以，先转 ONNX 再部署。"
    prompt_tokens = 21
    completion_tokens = 9
    latency_ms = 137
    finish_reason = "stop"
