"""Writes for projects, members, imports and exports. Views and the API call these; nothing else saves.

Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict; nothing else (docs/rules.md).
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.accounts.models import Membership
from labelstudio_app.core.errors import Conflict
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_create
from labelstudio_app.projects.exports import CONTAINERS, EXPORT_FORMATS, SCOPES
from labelstudio_app.projects.importers import (
    FORMATS,
    ChatOptions,
    ImportFailed,
    Record,
    Report,
    detect,
    detect_stream,
    parse_path,
    parse_stream,
)
from labelstudio_app.projects.importers.labelstudio import annotator_key
from labelstudio_app.projects.models import ImportBatch, Item, Project
from labelstudio_app.projects.sft import SFT_FORMATS, TemplateError, compile_template

PREVIEW_BYTES = 2 << 20
PREVIEW_ROWS = 20
_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")
_PLACEHOLDER_UNSAFE = re.compile(r"[^\w.@+-]")  # what Django's username validator refuses
PROJECT_FIELDS = ("name", "description", "instructions", "label_schema", "overlap", "qa_required", "weights_3h",
                  "harmlessness_veto", "prompt_template", "training_template")


# ---- projects and members ----------------------------------------------------------------------------------

@transaction.atomic
def project_create(*, user, name: str, **fields) -> Project:
    """A new project (admins only); its creator becomes its manager."""
    if not R.is_admin(user):
        raise PermissionDenied(_("Only staff create projects."))
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ValueError(f"unknown project fields: {', '.join(sorted(unknown))}")
    project = Project.objects.create(name=name, created_by=user, **fields)
    Membership.objects.create(user=user, project=project, role=Membership.Role.MANAGER)
    return project


@transaction.atomic
def project_update(*, project: Project, **fields) -> Project:
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise ValueError(f"unknown project fields: {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(project, key, value)
    project.save(update_fields=list(fields) or None)
    return project


def member_add_message(*, username: str, role: str) -> str:
    """What a manager is told after adding a member: the same words whether the account exists or not,
    so the form cannot be used to find out which usernames exist."""
    return _("If %(name)s has an account, they now have the role %(role)s.") % {
        "name": username.strip(), "role": Membership.Role(role).label}


@transaction.atomic
def member_add(*, project: Project, username: str, role: str) -> Membership | None:
    """Gives the user the role; an unknown username adds nobody and is not an error (see member_add_message)."""
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role %(role)s.") % {"role": role})
    user = get_user_model().objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        return None
    membership, _created = Membership.objects.get_or_create(user=user, project=project, role=role)
    return membership


@transaction.atomic
def member_remove(*, membership: Membership) -> None:
    """Locks the project's managers, then removes one role of one member; the last manager stays."""
    project = membership.project
    list(Membership.objects.select_for_update().filter(project=project, role=Membership.Role.MANAGER))
    if membership.role == Membership.Role.MANAGER and not Membership.objects.filter(
            project=project, role=Membership.Role.MANAGER).exclude(pk=membership.pk).exists():
        raise ValidationError(_("A project keeps at least one manager."))
    membership.delete()


# ---- imports ------------------------------------------------------------------------------------------------

def _upload_root(project_id: int) -> Path:
    return Path(settings.UPLOADS_DIR) / "imports" / str(project_id)


def import_upload_save(*, project: Project, upload) -> dict:
    """Saves an uploaded file under UPLOADS_DIR (refusing one over MAX_UPLOAD_MB) and returns its token.
    Sweeps stale uploads first, so abandoned previews go even where no worker runs the sweeper."""
    import_uploads_sweep()
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    if upload.size > limit:
        raise ValidationError(_("The file is %(size).1f MB; the limit is %(limit)s MB.")
                              % {"size": upload.size / 1024 / 1024, "limit": settings.MAX_UPLOAD_MB})
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    token = uuid.uuid4().hex
    name = get_valid_filename(Path(upload.name or "upload").name)[:120] or "upload"
    folder = _upload_root(project.pk) / token
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return {"token": token, "filename": name, "size": upload.size}


def import_upload_path(*, project: Project, token: str) -> Path:
    if not _TOKEN_RE.match(token or ""):
        raise ValidationError(_("Unknown upload; upload the file again."))
    folder = _upload_root(project.pk) / token
    files = sorted(folder.iterdir()) if folder.is_dir() else []
    if len(files) != 1:
        raise ValidationError(_("Unknown upload; upload the file again."))
    return files[0]


def import_mapping_clean(mapping, *, schema: list | None = None) -> dict:
    """The Label Studio `mapping` option: {"control name": "question name" or null to ignore}. With the
    project's schema, every named question must exist."""
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping) if mapping.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValidationError(_("mapping: invalid JSON (%(msg)s)") % {"msg": exc.msg}) from None
    if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items()):
        raise ValidationError(_('mapping must be a JSON object {"control name": "question name" or null}'))
    if schema is not None:
        names = {q.get("name") for q in schema}
        unknown = sorted(v for v in mapping.values() if v and v.strip() not in names)
        if unknown:
            raise ValidationError(_("mapping: %(names)s is not a question of this project's label schema")
                                  % {"names": ", ".join(unknown)})
    return {k.strip(): (v.strip() if v else None) for k, v in mapping.items()}


def import_options_clean(*, fmt: str, options, schema: list | None = None) -> dict:
    if fmt not in FORMATS:
        raise ValidationError(_("Unknown format %(fmt)s; choose one of %(formats)s.")
                              % {"fmt": fmt, "formats": ", ".join(FORMATS)})
    if isinstance(options, str):
        try:
            options = json.loads(options) if options.strip() else {}
        except json.JSONDecodeError as exc:
            raise ValidationError(_("options: invalid JSON (%(msg)s)") % {"msg": exc.msg}) from None
    if not isinstance(options, dict):
        raise ValidationError(_("options must be a JSON object"))
    mapping = options.get("mapping")
    chat = {k: v for k, v in options.items() if k != "mapping"}
    try:
        clean = ChatOptions.from_dict(chat).as_dict() if chat else {}
    except (ValueError, TypeError) as exc:
        raise ValidationError(str(exc)) from None
    if mapping:
        clean["mapping"] = import_mapping_clean(mapping, schema=schema)
    return clean


def import_preview(*, path: Path, fmt: str = "auto", options: dict | None = None, schema: list | None = None) -> dict:
    """Parses the first ~2 MB synchronously: the first rows as they will be stored, counts kept and dropped
    by each rule, and every error found so far (Label Studio annotations mapped onto `schema`, the project's
    label schema, with the controls found and where each goes in `report.controls`). Nothing is written."""
    report = Report()
    rows: list[dict] = []
    try:
        detected, container = detect(path, fmt)
        for record in parse_path(path, report=report, fmt=fmt, options=options, max_bytes=PREVIEW_BYTES,
                                 schema=schema):
            if len(rows) < PREVIEW_ROWS:
                rows.append(record.as_dict())
    except ImportFailed as exc:
        return {"format": fmt, "container": "", "rows": [], "report": {**report.as_dict(), "errors": [str(exc)],
                                                                        "error_count": 1}}
    except ValueError as exc:
        return {"format": fmt, "container": "", "rows": [], "report": {**report.as_dict(), "errors": [str(exc)],
                                                                        "error_count": 1}}
    return {"format": detected, "container": container, "rows": rows, "report": report.as_dict()}


@transaction.atomic
def import_start(*, project: Project, user, token: str, fmt: str = "auto", options=None) -> Job:
    """Queues the import job for a saved upload; the worker parses and stores it."""
    path = import_upload_path(project=project, token=token)
    options = import_options_clean(fmt=fmt, options=options or {}, schema=project.label_schema)
    return job_create(kind="import", user=user, project=project,
                      params={"path": str(path), "filename": path.name, "format": fmt, "options": options,
                              "token": token})


def import_create(*, project: Project, user, upload, fmt: str = "auto", options=None) -> Job:
    """Upload + start in one call (the REST API)."""
    options = import_options_clean(fmt=fmt, options=options or {}, schema=project.label_schema)
    saved = import_upload_save(project=project, upload=upload)
    return import_start(project=project, user=user, token=saved["token"], fmt=fmt, options=options)


def import_upload_delete(*, path: str) -> None:
    folder = Path(path).parent
    root = Path(settings.UPLOADS_DIR).resolve()
    if folder.resolve().is_relative_to(root) and _TOKEN_RE.match(folder.name):
        shutil.rmtree(folder, ignore_errors=True)


def import_uploads_sweep() -> int:
    """Deletes uploads saved more than UPLOAD_TTL_HOURS ago (a preview never imported), except those an
    unfinished import job still waits for; returns how many were deleted."""
    root = Path(settings.UPLOADS_DIR) / "imports"
    if not root.is_dir():
        return 0
    cutoff = time.time() - settings.UPLOAD_TTL_HOURS * 3600
    waiting = set(Job.objects.filter(kind="import", state__in=(Job.State.QUEUED, Job.State.RUNNING))
                  .values_list("params__token", flat=True))
    removed = 0
    for folder in root.glob("*/*"):
        if not (folder.is_dir() and _TOKEN_RE.match(folder.name)) or folder.name in waiting:
            continue
        try:
            stale = folder.stat().st_mtime < cutoff
        except FileNotFoundError:  # deleted meanwhile by its import
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def items_insert(*, project_id: int, job_id: int | None, records: list[Record]) -> list[int]:
    """Stores one batch of parsed records and returns their ids, in the records' order. One function, one code
    path per backend: COPY on PostgreSQL (about 5x faster than INSERT; the ids are drawn from the table's
    sequence first, so they are known without reading the rows back), bulk_create elsewhere. Runs inside the
    caller's transaction."""
    if not records:
        return []
    now = timezone.now()
    if connection.vendor == "postgresql":
        table = Item._meta.db_table
        columns = ("id", "project_id", "external_id", "text", "context", "task_type", "reference_answer", "metadata",
                   "source_job_id", "status", "is_gold", "created_at")
        dumps = json.dumps
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, len(records)])
            ids = [row[0] for row in cursor.fetchall()]
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for item_id, r in zip(ids, records, strict=True):
                    copy.write_row((item_id, project_id, r.external_id, r.text, dumps(r.context, ensure_ascii=False),
                                    r.task_type, r.reference_answer, dumps(r.metadata, ensure_ascii=False), job_id,
                                    Item.Status.OPEN, False, now))
        return ids
    items = Item.objects.bulk_create(
        [Item(project_id=project_id, external_id=r.external_id, text=r.text, context=r.context,
              task_type=r.task_type, reference_answer=r.reference_answer, metadata=r.metadata,
              source_job_id=job_id) for r in records],
        batch_size=1000,
    )
    return [item.pk for item in items]


def _import_annotator(*, project: Project, annotator: dict, cache: dict):
    """Needs the import's transaction. The account of a Label Studio annotator: a member of the project with that
    e-mail, else a placeholder account (no usable password) made an annotator of the project, so each
    annotator's answers stay theirs and agreement can be computed."""
    key = annotator_key(annotator)
    if key in cache:
        return cache[key]
    User = get_user_model()
    email = annotator["email"]
    user = None
    if email:
        user = (User.objects.filter(email__iexact=email, memberships__project=project, is_active=True)
                .order_by("pk").first())
    if user is None:
        username = _PLACEHOLDER_UNSAFE.sub("_", f"ls-{email}")[:150] if email else f"ls-annotator-{annotator['id']}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=email)
            user.set_unusable_password()
            user.save()
        elif user.has_usable_password():  # a real person's account: never attribute imported work to it
            raise Conflict(_("The placeholder account %(username)s for an imported annotator already belongs to "
                             "someone; rename that account and import again.") % {"username": username})
        Membership.objects.get_or_create(user=user, project=project, role=Membership.Role.ANNOTATOR)
    cache[key] = user
    return user


def import_annotations_resolve(*, project: Project, ids: list[int], records: list[Record], cache: dict) -> list:
    """Needs the import's transaction, after `items_insert` stored `records` as `ids`. The records' Label Studio
    annotations as (item id, annotator account, values, time spent), for the labelling service to store (the
    job calls it: projects sits below labelling)."""
    if not any(r.annotations for r in records):
        return []
    answers = [(item_id, _import_annotator(project=project, annotator=a["annotator"], cache=cache), a["values"],
                a.get("time_spent_ms", 0)) for item_id, record in zip(ids, records, strict=True) for a in record.annotations]
    return answers


# ---- bulk import over the API ------------------------------------------------------------------------------

BULK_FORMATS = ("auto", "items", "alpaca", "sharegpt", "openai", "preference")
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII without spaces, as an HTTP header carries it


class _KeyTaken(Exception):
    """A concurrent request committed a batch under the same key first."""


def items_bulk_import(*, project: Project, user, body: BinaryIO, container: str, fmt: str = "auto",
                      key: str = "") -> dict:
    """Stores a batch posted as a JSON list or JSONL body (`body`: a seekable binary file), validated by the
    file import's own parsers: at most BULK_SYNC_ITEMS records and BULK_SYNC_MB all in one transaction (COPY on
    PostgreSQL) before answering, a larger batch as an import job that starts at once. One bad record refuses
    the batch with every line's error and stores nothing. With `key` (the client's Idempotency-Key) the same
    batch sent again answers the first result (`replayed`) and stores nothing; another batch under the key is
    a Conflict. Returns {batch_key, replayed, stored, ids (in the body's order), first_id, last_id, dropped,
    format, job}."""
    if fmt not in BULK_FORMATS:
        raise ValidationError({"fmt": [_("Unknown format %(fmt)s; the bulk import reads %(formats)s (Label Studio "
                                         "exports and chat logs: import them as a file).")
                                       % {"fmt": fmt, "formats": ", ".join(BULK_FORMATS)}]})
    if key and not _KEY_RE.match(key):
        raise ValidationError({"Idempotency-Key": [_("The key must be 1 to 200 printable ASCII characters "
                                                     "without spaces.")]})
    size, digest = _body_measure(body, container=container, fmt=fmt)
    if key and (first := _bulk_replay(project=project, key=key, digest=digest)):
        return first
    if size == 0:
        raise ValidationError(_("The request body is empty."))
    report = Report()
    try:
        fmt = detect_stream(body, container, fmt)  # from the first records: cheap, so both paths refuse alike
        if fmt not in BULK_FORMATS:
            raise ImportFailed(_("This batch looks like a Label Studio export; import it as a file "
                                 "(POST /api/projects/<id>/imports/), which maps its annotations."))
        if size > settings.BULK_SYNC_MB * 1024 * 1024:
            return _bulk_job(project=project, user=user, body=body, size=size, container=container, fmt=fmt,
                             key=key, digest=digest)
        records = list(parse_stream(body, container=container, fmt=fmt, report=report, schema=project.label_schema))
    except ImportFailed as exc:
        raise ValidationError(str(exc)) from None
    if not report.ok:
        raise ValidationError(_bulk_line_errors(report))
    if len(records) > settings.BULK_SYNC_ITEMS:
        return _bulk_job(project=project, user=user, body=body, size=size, container=container, fmt=fmt, key=key,
                         digest=digest)
    try:
        with transaction.atomic():
            ids = items_insert(project_id=project.pk, job_id=None, records=records)
            result = _bulk_result(key=key, fmt=fmt, ids=ids, dropped=dict(report.dropped))
            if key:
                _bulk_record(project=project, user=user, key=key, digest=digest, result=result)
    except _KeyTaken:
        return _bulk_replay(project=project, key=key, digest=digest)
    return {**result, "job": None}


def _bulk_result(*, key: str, fmt: str, ids: list[int] | None = None, dropped: dict | None = None) -> dict:
    """The answer kept under the key (the job, when there is one, is added beside it)."""
    ids = ids or []
    return {"batch_key": key or None, "replayed": False, "stored": len(ids), "ids": ids,
            "first_id": ids[0] if ids else None, "last_id": ids[-1] if ids else None, "dropped": dropped or {},
            "format": fmt}


def _body_measure(body: BinaryIO, *, container: str, fmt: str) -> tuple[int, str]:
    """(size in bytes, sha256 of the container, format and bytes): two posts are the same batch when they read
    the same bytes the same way. Leaves the body at its start."""
    digest = hashlib.sha256(f"{container}\n{fmt}\n".encode())
    body.seek(0)
    size = 0
    while chunk := body.read(1 << 20):
        size += len(chunk)
        digest.update(chunk)
    body.seek(0)
    return size, digest.hexdigest()


def _bulk_line_errors(report: Report) -> dict:
    """The report as the API's error shape: each bad line under "line N" with what is wrong (the message
    names the field), the count in `detail`."""
    errors: dict[str, list[str]] = {}
    top = [_("%(count)s problem(s) in the batch; nothing was imported.") % {"count": report.error_count}]
    for line, reason in report.errors:
        if line:
            errors.setdefault(f"line {line}", []).append(reason)
        else:
            top.append(reason)
    if report.error_count > len(report.errors):
        top.append(_("… and %(n)s more errors") % {"n": report.error_count - len(report.errors)})
    return {"detail": [" ".join(top)], **errors}


def _bulk_replay(*, project: Project, key: str, digest: str) -> dict | None:
    batch = ImportBatch.objects.filter(project=project, key=key).select_related("job").first()
    if batch is None:
        return None
    if batch.body_sha256 != digest:
        raise Conflict(_("The Idempotency-Key %(key)s was already used for another batch in this project; send a "
                         "new key with a new batch.") % {"key": key}, code="idempotency_key_reused")
    return {**batch.result, "replayed": True, "job": batch.job}


def _bulk_record(*, project: Project, user, key: str, digest: str, result: dict, job: Job | None = None) -> None:
    """Needs the batch's transaction. Keeps the answer under the key; a concurrent request with the same key
    waits here on the unique index until the first commits, then raises _KeyTaken (rolling its items back)."""
    try:
        with transaction.atomic():
            ImportBatch.objects.create(project=project, key=key, body_sha256=digest, result=result, job=job,
                                       created_by=user if user and user.is_authenticated else None)
    except IntegrityError:
        raise _KeyTaken from None


def _bulk_job(*, project: Project, user, body: BinaryIO, size: int, container: str, fmt: str, key: str,
              digest: str) -> dict:
    """A batch over the synchronous limits: saved as an upload and imported by the import job, which
    enqueues when this transaction commits (the worker takes it at once; the client polls /api/jobs/<id>/)."""
    upload = File(body, name="bulk.jsonl" if container == "jsonl" else "bulk.json")
    upload.size = size
    saved = import_upload_save(project=project, upload=upload)
    result = _bulk_result(key=key, fmt=fmt)
    try:
        with transaction.atomic():
            job = import_start(project=project, user=user, token=saved["token"], fmt=fmt)
            if key:
                _bulk_record(project=project, user=user, key=key, digest=digest, result=result, job=job)
    except _KeyTaken:
        import_upload_delete(path=str(import_upload_path(project=project, token=saved["token"])))
        return _bulk_replay(project=project, key=key, digest=digest)
    return {**result, "job": job}


# ---- exports ------------------------------------------------------------------------------------------------

@transaction.atomic
def export_start(*, project: Project, user, fmt: str, scope: str = "labelled", container: str = "native") -> Job:
    """Queues an export; `container` writes the same rows as Parquet or a zipped `datasets` folder."""
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(_("Unknown export format %(fmt)s; choose one of %(formats)s.")
                              % {"fmt": fmt, "formats": ", ".join(EXPORT_FORMATS)})
    if scope not in SCOPES:
        raise ValidationError(_("Unknown scope %(scope)s; choose one of %(scopes)s.")
                              % {"scope": scope, "scopes": ", ".join(SCOPES)})
    if container not in CONTAINERS:
        raise ValidationError({"container": [_("Unknown file type %(container)s; choose one of %(containers)s.")
                                             % {"container": container, "containers": ", ".join(CONTAINERS)}]})
    return job_create(kind="export", user=user, project=project,
                      params={"format": fmt, "scope": scope, "container": container})


def export_template_check(*, project: Project, fmt: str) -> None:
    """Refuses an SFT export (alpaca, sharegpt, openai) while the project's training template does not compile."""
    if fmt not in SFT_FORMATS:
        return
    try:
        compile_template(project.training_template)
    except TemplateError as exc:
        raise ValidationError({"training_template": [str(exc)]}) from None


def export_file_path(*, job: Job) -> Path | None:
    """The finished export's file, or None when the job has none (not an export, not done, file gone)."""
    rel = (job.result or {}).get("file")
    if job.kind != "export" or job.state != Job.State.SUCCEEDED or not rel:
        return None
    root = (Path(settings.ARTIFACTS_DIR) / "exports").resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path
