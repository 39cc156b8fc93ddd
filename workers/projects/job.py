"""The `import` and `export` jobs (named in `labelstudio_app.jobs.kinds`): read through selectors, write through services.

Import, all-or-nothing per file:
1. if items from this job are already stored, a previous attempt committed: report them and stop;
2. parse and validate the whole file, collecting every bad line; any error fails the job, nothing stored;
3. parse again and insert in batches inside ONE transaction, reporting progress between batches over a
   second connection (so the progress bar moves while the transaction is still open). A killed worker
   leaves an uncommitted transaction that PostgreSQL rolls back; the redelivered job starts over.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import islice
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from labelstudio_app.env import env_int
from labelstudio_app.jobs.services import JobFailed
from labelstudio_app.labelling.services import annotations_import
from labelstudio_app.projects import selectors, services
from labelstudio_app.projects.exports import export_chunks, export_columnar, export_filename, export_queryset
from labelstudio_app.projects.importers import ImportFailed, Report, parse_path

BATCH_SIZE = env_int("FLYWHEEL_IMPORT_BATCH_SIZE", 5000, minimum=1)
# Test-only: a pause between batches so a test can kill the worker mid-import. Zero in real use.
BATCH_PAUSE_MS = env_int("FLYWHEEL_IMPORT_BATCH_PAUSE_MS", 0, minimum=0)
CHECK_PROGRESS_EVERY = 50_000


class ImportRejected(JobFailed):
    """The file has errors; nothing from it was stored. The user sees the message alone."""


class _Progress:
    """Progress reports that other sessions can see while this connection holds an open transaction:
    they go through a second connection, owned by one helper thread. Inside an enclosing atomic block
    (a test calling the handler directly) they stay on this connection, and so they do on SQLite, where a
    second writer would wait for this transaction's lock (the bar then jumps to 100% at the commit)."""

    def __init__(self, ctx):
        self.ctx = ctx
        same_connection = connection.in_atomic_block or connection.vendor == "sqlite"
        self.pool = None if same_connection else ThreadPoolExecutor(max_workers=1)

    def __call__(self, **kwargs) -> None:
        if self.pool is None:
            self.ctx.progress(**kwargs)
        else:
            self.pool.submit(self.ctx.progress, **kwargs).result()  # JobCancelled / JobLost re-raise here

    def close(self) -> None:
        if self.pool is not None:
            self.pool.submit(lambda: connection.close()).result()  # the helper thread's own connection
            self.pool.shutdown()


def _batches(iterable, size: int):
    it = iter(iterable)
    while batch := list(islice(it, size)):
        yield batch


def import_run(ctx) -> dict:
    """Imports the upload; a rejected file (bad lines, unreadable) is deleted with it, as a stored one is."""
    job = ctx.job
    params = job.params
    path = Path(params["path"])
    already = selectors.item_count_for_job(job_id=job.pk)
    if already:
        ctx.log(f"an earlier attempt already stored {already} items; nothing to do")
        services.import_upload_delete(path=str(path))
        return {"items": already, "filename": params.get("filename", "")}
    if not path.is_file():
        raise JobFailed(_("The uploaded file %(name)s is gone; upload it again.")
                        % {"name": repr(params.get("filename", ""))})
    try:
        result = _import_file(ctx, path)
    except ImportFailed as exc:
        services.import_upload_delete(path=str(path))
        raise JobFailed(str(exc)) from None
    except ImportRejected:
        services.import_upload_delete(path=str(path))
        raise
    services.import_upload_delete(path=str(path))
    return result


def _import_file(ctx, path: Path) -> dict:
    job = ctx.job
    params = job.params
    fmt, options = params.get("format", "auto"), params.get("options") or {}
    project = selectors.project_get_for_job(project_id=job.project_id)
    schema = project.label_schema
    ctx.progress(done=0, total=0, message=_("Checking the file…"))
    report = Report()
    total = 0
    for _record in parse_path(path, report=report, fmt=fmt, options=options, schema=schema):
        total += 1
        if total % CHECK_PROGRESS_EVERY == 0:
            ctx.progress(message=_("Checking the file… %(n)s records so far") % {"n": total})
    if not report.ok:
        text = "\n".join(report.messages())
        ctx.log(text)
        raise ImportRejected(_("%(count)s problem(s) in %(name)s; nothing was imported.")
                             % {"count": report.error_count, "name": params.get("filename") or _("the file")}
                             + "\n" + text)

    progress = _Progress(ctx)
    stored = annotations = 0
    annotators: dict = {}  # Label Studio annotator -> account, across batches
    try:
        progress(done=0, total=total, message=_("Importing…"))
        with transaction.atomic():
            second = Report()
            records = parse_path(path, report=second, fmt=fmt, options=options, schema=schema)
            for batch in _batches(records, BATCH_SIZE):
                ids = services.items_insert(project_id=job.project_id, job_id=job.pk, records=batch)
                stored += len(ids)
                answers = services.import_annotations_resolve(project=project, ids=ids, records=batch,
                                                              cache=annotators)
                annotations += annotations_import(project=project, answers=answers) if answers else 0
                progress(done=stored, total=total)
                if BATCH_PAUSE_MS:
                    time.sleep(BATCH_PAUSE_MS / 1000)
            if not second.ok or stored != total:  # the file changed between the two passes
                raise ImportRejected(_("The file changed while it was being imported; nothing was imported."))
    finally:
        progress.close()
    ctx.log(f"imported {stored} items, {annotations} annotations; dropped {dict(report.dropped)}")
    return {"items": stored, "annotations": annotations, "kept": report.kept, "dropped": dict(report.dropped),
            "format": fmt,
            "filename": params.get("filename", ""), "lines": report.lines}


def export_run(ctx) -> dict:
    job = ctx.job
    project = selectors.project_get_for_job(project_id=job.project_id)
    fmt, scope = job.params.get("format", "jsonl"), job.params.get("scope", "labelled")
    container = job.params.get("container", "native")
    folder = Path(settings.ARTIFACTS_DIR) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    name = export_filename(project=project, fmt=fmt, suffix=f"-job{job.pk}", container=container)
    tmp = folder / f".{name}.{os.getpid()}.part"
    total = export_queryset(project=project, scope=scope).count()
    ctx.progress(done=0, total=total, message=_("Exporting…"))
    rows = 0

    def on_rows(n: int) -> None:
        nonlocal rows
        rows = n
        ctx.progress(done=min(n, total), total=total)

    try:
        if container == "native":
            with tmp.open("w", encoding="utf-8", newline="") as out:
                for chunk in export_chunks(project=project, fmt=fmt, scope=scope, on_rows=on_rows):
                    out.write(chunk)
        else:  # the zip's folder is named like the file, so unzipping gives load_from_disk's argument
            rows = export_columnar(project=project, fmt=fmt, scope=scope, container=container, path=tmp,
                                   folder=name.removesuffix(".hf.zip"), on_rows=on_rows)
        tmp.replace(folder / name)
    finally:
        tmp.unlink(missing_ok=True)
    return {"file": name, "filename": name, "rows": rows, "bytes": (folder / name).stat().st_size,
            "format": fmt, "scope": scope, "container": container}
