"""The label-audit job: each model version of the run answers the project's question about every chosen item.

Glue: reads rows, renders prompts (`item_prompt_messages`, as training and generation do), generates through the
one backend interface (workers.generation.backends.load_backend), parses the answers and stores them through the audit
services in batches. What is already stored for (run, version, item) is skipped, so a redelivered job fills gaps.
"""
from django.utils.translation import gettext as _

from labelstudio_app.audit import selectors, services
from labelstudio_app.audit.models import AuditRun
from labelstudio_app.audit.parser import parse_answer
from labelstudio_app.projects.sft import item_prompt_messages
from workers.generation.backends import load_backend
from workers.generation.base import GenerationRequest, SamplingParams
from workers.generation.job import model_spec

BATCH = 8


def _sampling(run: AuditRun) -> SamplingParams:
    allowed = set(SamplingParams.__dataclass_fields__)
    return SamplingParams(**{k: v for k, v in {"temperature": 0.0, **run.sampling}.items() if k in allowed})


def _human(item, run: AuditRun) -> str:
    return str((item.final_values or {}).get(run.question, ""))


def _generated_rows(backend, requests: list, items: list, run: AuditRun, config) -> list[dict]:
    rows = []
    for item, res in zip(items, backend.generate(requests), strict=True):
        parsed = parse_answer(res.text, config)
        rows.append({"item": item, "human_value": _human(item, run), "predicted_value": parsed.value,
                     "rule": parsed.rule, "raw_output": res.text, "task_type": item.task_type,
                     "prompt_tokens": res.prompt_tokens, "completion_tokens": res.completion_tokens,
                     "latency_ms": res.latency_ms})
    return rows


def _likelihood_rows(backend, requests: list, items: list, run: AuditRun) -> list[dict]:
    """For each prompt, the option the model finds most likely as its whole answer (no generation, so a small
    model that does not follow the answer format is still measured)."""
    if not hasattr(backend, "choose"):
        raise ValueError("likelihood scoring needs the transformers backend; run this audit with scoring 'generate'")
    picked = backend.choose(requests, list(run.options))
    return [{"item": item, "human_value": _human(item, run), "predicted_value": value, "rule": "likelihood",
             "raw_output": value, "task_type": item.task_type}
            for item, value in zip(items, picked, strict=True)]


def audit_run(ctx) -> dict:
    run = selectors.audit_run_get_for_job(run_id=ctx.params["run_id"])
    config = services.audit_parser_config(run=run)
    params = _sampling(run)
    versions = sorted(run.model_versions.all(), key=lambda m: (m.parameter_count or 0, m.pk))
    total = len(run.item_ids) * len(versions)
    done = selectors.audit_prediction_count(run=run)
    ctx.progress(done=done, total=total, message=_("starting"))
    summary = {}
    for mv in versions:
        have = selectors.audit_item_ids_answered(run=run, model_version=mv)
        missing = [i for i in run.item_ids if i not in have]
        summary[mv.name] = {"new": 0}
        if not missing:
            continue
        ctx.log(f"{mv.name}: {len(missing)} item(s) to ask")
        ctx.progress(message=_("loading %(model)s") % {"model": mv.name})
        spec = model_spec(mv)  # paths checked against the model roots, as for generation
        backend = load_backend(spec)  # cached per base model: adapters on one base share it; not closed here
        for start in range(0, len(missing), BATCH):
            items = selectors.audit_items_for_job(run=run, item_ids=missing[start:start + BATCH])
            requests = [GenerationRequest(messages=item_prompt_messages(project=run.project, item=item,
                                                                        template=run.template or None),
                                          params=params, adapter=spec.adapter_path) for item in items]
            if run.scoring == AuditRun.Scoring.LIKELIHOOD:
                rows = _likelihood_rows(backend, requests, items, run)
            else:
                rows = _generated_rows(backend, requests, items, run, config)
            summary[mv.name]["new"] += services.audit_predictions_save(run=run, model_version=mv, rows=rows)
            done = selectors.audit_prediction_count(run=run)
            ctx.progress(done=done, message=_("%(model)s: %(done)s / %(total)s")
                         % {"model": mv.name, "done": start + len(items), "total": len(missing)})
    return {"run_id": run.pk, "predictions": selectors.audit_prediction_count(run=run), "models": summary}
