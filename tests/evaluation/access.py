from labelstudio_app.evaluation.params import params_hash, params_normalise
from tests.access_rules import MANAGERS, Rule
from tests.evaluation.factories import CandidateFactory, ModelVersionFactory
from tests.factories import ItemFactory, JobFactory


def setup(world):
    from labelstudio_app.evaluation.models import OutboundEndpoint

    OutboundEndpoint.objects.get_or_create(name="served", defaults={"base_url": "http://127.0.0.1:9/v1"})
    mv = ModelVersionFactory(project=world.project, name="base-0.5b")
    item = ItemFactory(project=world.project)
    world.extra["model_version"] = mv
    world.extra["gen_item"] = item
    world.extra["candidate"] = CandidateFactory(model_version=mv, item=item)
    world.extra["generation_job"] = JobFactory(
        kind="generation", project=world.project, created_by=world.users["manager"],
        params={"model_version_ids": [mv.pk], "item_ids": [item.pk], "n_samples": 1,
                "sampling": params_normalise({}), "params_hash": params_hash({})})


def _p(w):
    return {"project_id": w.project.pk}


def _mv(w):
    return {"project_id": w.project.pk, "model_version_id": w.model_version.pk}


def _job(w):
    return {"project_id": w.project.pk, "job_id": w.generation_job.pk}


def _item(w):
    return {"project_id": w.project.pk, "item_id": w.gen_item.pk}


def _new_mv(w):
    # A served model: registering it checks no files and needs no hub access.
    return {"name": "qwen-1.5b", "base_model": "qwen2.5-1.5b", "backend": "openai",
            "backend_options": '{"endpoint": "served"}'}


def _gen(w):
    return {"model_versions": [w.model_version.pk], "n_samples": 1, "temperature": 0.7, "top_p": 1, "top_k": 0,
            "repetition_penalty": 1, "no_repeat_ngram_size": 0, "max_new_tokens": 32}


# Reviewers are deliberately absent everywhere: they must never learn which model wrote what.
RULES = {
    "model-version-list": Rule(allowed=MANAGERS, kwargs=_p),
    "model-version-create": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=_new_mv, ok=(302,)),
    "model-version-detail": Rule(allowed=MANAGERS, kwargs=_mv),
    "model-version-delete": Rule(allowed=MANAGERS, kwargs=_mv, method="post", data=lambda w: {}, ok=(302,)),
    "model-version-promote": Rule(allowed=MANAGERS, kwargs=_mv, method="post", data=lambda w: {}, ok=(302,)),
    "serving-rollback": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=lambda w: {}, ok=(302,)),
    "generation-list": Rule(allowed=MANAGERS, kwargs=_p),
    "generation-create": Rule(allowed=MANAGERS, kwargs=_p, method="post", data=_gen, ok=(302,)),
    "generation-detail": Rule(allowed=MANAGERS, kwargs=_job),
    "item-candidates": Rule(allowed=MANAGERS, kwargs=_item),
    "api-model-version-list": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-model-version-detail": Rule(allowed=MANAGERS, kwargs=_mv, api=True),
    "api-model-version-gate": Rule(allowed=MANAGERS, kwargs=_mv, api=True),
    # The version has no parent: the gate refuses it (409), force takes it with a reason, and with nothing
    # served before it there is nothing to roll back to (409).
    "api-model-version-promote": Rule(allowed=MANAGERS, kwargs=_mv, api=True, method="post", ok=(409,)),
    "api-model-version-force": Rule(allowed=MANAGERS, kwargs=_mv, api=True, method="post", fmt="json",
                                    data=lambda w: {"reason": "the first serving version"}, ok=(201,)),
    "api-serving": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-serving-rollback": Rule(allowed=MANAGERS, kwargs=_p, api=True, method="post", ok=(409,)),
    "api-generation-job-list": Rule(allowed=MANAGERS, kwargs=_p, api=True),
    "api-generation-job-detail": Rule(allowed=MANAGERS, kwargs=_job, api=True),
    "api-item-candidates": Rule(allowed=MANAGERS, kwargs=_item, api=True),
}
