"""The label-audit job: each model version of the run answers the project's question about every chosen item.

Glue: reads rows, renders prompts (`item_prompt_messages`, as training and generation do), generates through the
one backend interface (workers.generation.backends.load_backend), parses the answers and stores them through the audit
services in batches. What is already stored for (run, version, item) is skipped, so a redelivered job fills gaps.
"""
from labelstudio_app.audit import services
from labelstudio_app.audit.models import AuditPrediction, AuditRun
from labelstudio_app.audit.parser import parse_answer
from labelstudio_app.projects.models import Item
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


def _likelihood_rows(spec, requests: list, items: list, run: AuditRun) -> list[dict]:
    """The single call site of likelihood scoring: for each prompt, the option whose text has the highest
    log-likelihood (`workers.generation.scoring`). Without that scorer the run fails with a clear message
    instead of silently generating."""
    try:
        from workers.generation import scoring
    except ImportError:
        raise RuntimeError("likelihood scoring needs workers.generation.scoring, which this worker does not have; "
                           "run the audit with scoring 'generate'") from None
    picked = scoring.pick_label(spec, requests, options=list(run.options))
    return [{"item": item, "human_value": _human(item, run), "predicted_value": value, "rule": "likelihood",
             "raw_output": value or "", "task_type": item.task_type}
            for item, value in zip(items, picked, strict=True)]


def audit_run(ctx) -> dict:
    run = AuditRun.objects.select_related("project").get(pk=ctx.params["run_id"])
    config = services.audit_parser_config(run=run)
    params = _sampling(run)
    versions = sorted(run.model_versions.all(), key=lambda m: (m.parameter_count or 0, m.pk))
    total = len(run.item_ids) * len(versions)
    done = AuditPrediction.objects.filter(run=run).count()
    ctx.progress(done=done, total=total, message="starting")
    summary = {}
    for mv in versions:
        have = set(AuditPrediction.objects.filter(run=run, model_version=mv).values_list("item_id", flat=True))
        missing = [i for i in run.item_ids if i not in have]
        summary[mv.name] = {"new": 0}
        if not missing:
            continue
        ctx.log(f"{mv.name}: {len(missing)} item(s) to ask")
        ctx.progress(message=f"loading {mv.name}")
        spec = model_spec(mv)  # paths checked against the model roots, as for generation
        backend = load_backend(spec)  # cached per base model: adapters on one base share it; not closed here
        for start in range(0, len(missing), BATCH):
            items = list(Item.objects.filter(pk__in=missing[start:start + BATCH]).order_by("id"))
            requests = [GenerationRequest(messages=item_prompt_messages(project=run.project, item=item,
                                                                        template=run.template or None),
                                          params=params, adapter=spec.adapter_path) for item in items]
            if run.scoring == AuditRun.Scoring.LIKELIHOOD:
                rows = _likelihood_rows(spec, requests, items, run)
            else:
                rows = _generated_rows(backend, requests, items, run, config)
            summary[mv.name]["new"] += services.audit_predictions_save(run=run, model_version=mv, rows=rows)
            done = AuditPrediction.objects.filter(run=run).count()
            ctx.progress(done=done, message=f"{mv.name}: {start + len(items)} / {len(missing)}")
    return {"run_id": run.pk, "predictions": AuditPrediction.objects.filter(run=run).count(), "models": summary}
