"""The audit's results as plain data: the metrics document (JSON / API) and the predictions (CSV / JSON)."""
import csv
import io

from labelstudio_app.audit import selectors
from labelstudio_app.audit.models import AuditRun

CSV_COLUMNS = ["run", "model_version", "parameter_count", "item", "external_id", "task_type", "human_value",
               "predicted_value", "unparseable", "rule", "raw_output"]


def report_json(report: dict) -> dict:
    run = report["run"]
    return {
        "run": run.pk, "question": run.question, "metric": run.metric, "positive_class": run.positive_class or None,
        "n_items": report["n_items"],
        "models": [{k: m[k] for k in ("id", "name", "parameter_count", "parent_id", "value", "report",
                                      "per_task_type")} for m in report["models"]],
        "scaling": report["scaling"],
    }


def disagreements_json(report: dict) -> dict:
    d = report["disagreements"]
    return {"models": d["models"], "items": [{k: v for k, v in row.items() if k != "item"} for row in d["items"]]}


def _prediction_rows(run: AuditRun):
    for p in selectors.audit_prediction_list(run=run).iterator(chunk_size=1000):
        yield {"run": run.pk, "model_version": p.model_version.name, "parameter_count": p.model_version.parameter_count,
               "item": p.item_id, "external_id": p.item.external_id, "task_type": p.task_type,
               "human_value": p.human_value, "predicted_value": p.predicted_value,
               "unparseable": p.predicted_value is None, "rule": p.rule, "raw_output": p.raw_output}


def run_csv(run: AuditRun) -> str:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in _prediction_rows(run):
        writer.writerow({**row, "predicted_value": row["predicted_value"] or ""})
    return out.getvalue()


def run_json(run: AuditRun) -> dict:
    report = selectors.audit_report(run=run)
    return {"metrics": report_json(report), "disagreements": disagreements_json(report),
            "predictions": list(_prediction_rows(run))}
