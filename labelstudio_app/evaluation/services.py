"""Writes for model versions, generation jobs and candidates.

Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict; nothing else (docs/rules.md).
"""
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q, QuerySet
from django.utils.translation import gettext as _

from labelstudio_app.accounts import roles as R
from labelstudio_app.core.errors import Conflict
from labelstudio_app.evaluation import modelfiles, selectors
from labelstudio_app.evaluation.gate import gate_verdict
from labelstudio_app.evaluation.models import Candidate, ModelVersion, OutboundEndpoint, ServingChange
from labelstudio_app.evaluation.outbound import base_url_check, key_env_check
from labelstudio_app.evaluation.params import backend_option_check, params_hash, params_normalise
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_create
from labelstudio_app.projects.models import Item, Project

Backend = ModelVersion.Backend
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_SAMPLES = 32
MAX_BATCH = 256
# backend -> option name -> type. Anything else in backend_options is refused, so a typo never passes silently.
BACKEND_OPTIONS: dict[str, dict[str, type]] = {
    Backend.TRANSFORMERS: {"device": str, "dtype": str, "batch_size": int},
    Backend.VLLM: {"dtype": str, "max_model_len": int, "gpu_memory_utilization": float, "max_lora_rank": int,
                   "max_loras": int, "tensor_parallel_size": int, "batch_size": int, "enforce_eager": bool},
    Backend.OPENAI: {"endpoint": str, "model": str, "timeout": float, "max_retries": int, "concurrency": int,
                     "lora_name": str, "batch_size": int},
}
# Where an openai backend connects and with which key is the endpoint's business (staff), never a version's.
STAFF_ONLY_OPTIONS = ("base_url", "api_key_env")
# Parameters a backend cannot honour; asking for them is refused before a job starts (see docs/generation.md).
UNSUPPORTED_PARAMS = {Backend.VLLM: ("no_repeat_ngram_size",), Backend.OPENAI: ("no_repeat_ngram_size",)}


def _storable_check(field: str, value, where: str = "") -> None:
    """Refuses text PostgreSQL cannot store (NUL characters; lone surrogates such as a JSON "\\ud800" escape)
    anywhere in `value`, keys of JSON objects included, naming the field and the place inside it."""
    if isinstance(value, str):
        problem = None
        if "\x00" in value:
            problem = _("contains a NUL character (\\u0000), which cannot be stored.")
        elif _SURROGATE.search(value):
            problem = _("contains a lone surrogate (e.g. \\ud800), which is not valid Unicode.")
        if problem:
            raise ValidationError({field: _("%(where)s: %(problem)s") % {"where": where, "problem": problem}
                                   if where else problem})

    elif isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str):
                _storable_check(field, key, where=_("a key in %(path)s") % {"path": where} if where else _("a key"))
            _storable_check(field, inner, where=f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for index, inner in enumerate(value):
            _storable_check(field, inner, where=f"{where}[{index}]")


def _options_clean(backend: str, options: dict | None, base_model: str) -> dict:
    options = dict(options or {})
    allowed = BACKEND_OPTIONS[backend]
    if backend == Backend.OPENAI and set(STAFF_ONLY_OPTIONS) & set(options):
        raise ValidationError({"backend_options": _(
            "base_url and api_key_env cannot be set on a model version: pick an endpoint by name "
            "(\"endpoint\": ...) from the list admins manage.")})
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValidationError({"backend_options": _("Unknown option(s) for the %(backend)s backend: %(names)s. "
                                                    "Known: %(known)s.") % {
            "backend": backend, "names": ", ".join(unknown), "known": ", ".join(sorted(allowed))}})
    for name, kind in allowed.items():
        if name in options and options[name] is not None:
            value = options[name]
            ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                ok, options[name] = True, float(value)
            if not ok:
                raise ValidationError({"backend_options": _("%(name)s: expected %(kind)s, got %(value)r.") % {
                    "name": name, "kind": kind.__name__, "value": value}})
            try:
                options[name] = backend_option_check(name, options[name])
            except ValidationError as exc:
                raise ValidationError({"backend_options": exc.messages}) from None
    if backend == Backend.OPENAI:
        name = str(options.get("endpoint") or "").strip()
        if selectors.outbound_endpoint_get_enabled(name=name) is None:
            known = selectors.outbound_endpoint_names()
            raise ValidationError({"backend_options": _(
                "endpoint: %(name)r is not an enabled endpoint; pick one of: %(known)s.")
                % {"name": name, "known": ", ".join(known) or _("(none yet: an admin adds them)")}})
        options["endpoint"] = name
        options.setdefault("model", base_model)
    return options


def backend_options_for_worker(mv: ModelVersion) -> dict:
    """A version's backend options checked again when a job starts (a row edited behind the app's back
    still cannot reach out, load a bad dtype or wait unbounded); for openai, the endpoint's URL and key
    variable replace its name."""
    options = _options_clean(mv.backend, mv.backend_options, mv.base_model)
    if mv.backend == Backend.OPENAI:
        endpoint = selectors.outbound_endpoint_get_enabled(name=options.pop("endpoint"))
        options["base_url"] = base_url_check(endpoint.base_url)
        options["api_key_env"] = key_env_check(endpoint.api_key_env)
    return options


def outbound_endpoints_seed() -> int:
    """Adds the endpoints of settings.OUTBOUND_ENDPOINTS that have no row yet (rows edited by staff win).
    Returns how many were added."""
    added = 0
    for name, spec in (settings.OUTBOUND_ENDPOINTS or {}).items():
        spec = spec if isinstance(spec, dict) else {"base_url": spec}
        endpoint = OutboundEndpoint(name=name, base_url=str(spec.get("base_url") or ""),
                                    api_key_env=str(spec.get("api_key_env") or ""),
                                    enabled=bool(spec.get("enabled", True)))
        try:
            endpoint.full_clean(validate_unique=False)
        except ValidationError as exc:
            raise ImproperlyConfigured(f"FLYWHEEL_OUTBOUND_ENDPOINTS[{name!r}]: {exc.messages}") from None
        _, created = OutboundEndpoint.objects.get_or_create(
            name=endpoint.name, defaults={"base_url": endpoint.base_url, "api_key_env": endpoint.api_key_env,
                                          "enabled": endpoint.enabled})
        added += created
    return added


def _model_files_check(*, project: Project, backend: str, base_model: str,
                       adapter_path: str) -> tuple[str, str, dict, int | None]:
    metadata: dict = {}
    if backend == Backend.OPENAI:
        # The server loads the base model; we only keep the name it serves. Adapters must still be ours.
        base = base_model.strip()
        if not base:
            raise ValidationError({"base_model": _("A base model is required.")})
        count = None
    else:
        info = modelfiles.base_model_inspect(base_model, project_id=project.pk)
        base, count = info.path, info.parameter_count
        metadata["chat_template"] = {True: "ok", False: "missing", None: "unchecked"}[info.chat_template]
        metadata["warnings"] = list(info.warnings)
    if adapter_path.strip():
        adapter = modelfiles.adapter_inspect(adapter_path, project_id=project.pk)
        metadata["adapter_parameter_count"] = adapter.parameter_count
        metadata.setdefault("warnings", []).extend(adapter.warnings)
        adapter_path = adapter.path
    return base, adapter_path, metadata, count


@transaction.atomic
def model_version_create(*, project: Project, user, name: str, base_model: str, adapter_path: str = "",
                         parent: ModelVersion | None = None, backend: str = "transformers",
                         backend_options: dict | None = None, parameter_count: int | None = None,
                         trust_remote_code: bool = False, metadata: dict | None = None) -> ModelVersion:
    """Registers a model version after checking its files (roots, safetensors, chat template).

    `trust_remote_code` may be turned on only by an admin (staff). The parameter count is read from the
    safetensors headers when the base model is a local folder; an explicit `parameter_count` wins.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("A name is required.")})
    for field, value in (("name", name), ("base_model", base_model), ("adapter_path", adapter_path),
                         ("backend_options", backend_options), ("metadata", metadata)):
        _storable_check(field, value)
    if backend not in Backend.values:
        raise ValidationError({"backend": _("Unknown backend %(b)r; use one of %(all)s.")
                               % {"b": backend, "all": ", ".join(Backend.values)}})
    if trust_remote_code and not R.is_admin(user):
        raise PermissionDenied(_("Only an admin may turn on trust_remote_code."))
    if parent is not None and parent.project_id != project.pk:
        raise ValidationError({"parent": _("The parent must be a model version of the same project.")})
    if parameter_count is not None and parameter_count < 0:
        raise ValidationError({"parameter_count": _("Must be a positive number.")})
    if ModelVersion.objects.filter(project=project, name=name).exists():
        raise ValidationError({"name": _("A model version named %(name)s already exists in this project.")
                               % {"name": name}})
    options = _options_clean(backend, backend_options, base_model.strip())
    base, adapter, checked, count = _model_files_check(project=project, backend=backend, base_model=base_model,
                                                       adapter_path=adapter_path or "")
    try:
        with transaction.atomic():
            mv = ModelVersion.objects.create(
                project=project, name=name, base_model=base, adapter_path=adapter, parent=parent,
                parameter_count=parameter_count if parameter_count is not None else count, backend=backend,
                backend_options=options, trust_remote_code=trust_remote_code,
                metadata={**checked, **(metadata or {})},
                created_by=user if user is not None and user.is_authenticated else None,
            )
    except IntegrityError:
        raise ValidationError({"name": _("A model version named %(name)s already exists in this project.")
                               % {"name": name}}) from None
    if checked.get("chat_template") == "ok":
        model_version_template_check_start(model_version=mv, user=user)
    return mv


def model_version_template_check_start(*, model_version: ModelVersion, user=None) -> Job:
    """Queues the check that the version's chat template can be masked for training: the tokenizer is loaded
    in a worker (the web side never imports transformers), which records the verdict on the version."""
    return job_create(kind="template_check", user=user, project=model_version.project, total=1,
                      params={"model_version_id": model_version.pk})


def model_version_template_record(*, model_version_id: int, error: str | None) -> None:
    """Records a chat template check: None when the template masks the assistant turns, else why not."""
    ModelVersion.objects.filter(pk=model_version_id).update(template_ok=error is None, template_error=error or "")


@transaction.atomic
def model_version_update(*, model_version: ModelVersion, user, name: str | None = None,
                         parent: ModelVersion | bool | None = False, backend_options: dict | None = None,
                         trust_remote_code: bool | None = None, metadata: dict | None = None) -> ModelVersion:
    """Edits what can change without changing which weights a version names (base and adapter are fixed:
    candidates already written by it must stay true)."""
    for field, value in (("name", name), ("backend_options", backend_options), ("metadata", metadata)):
        _storable_check(field, value)
    mv = ModelVersion.objects.select_for_update().get(pk=model_version.pk)
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationError({"name": _("A name is required.")})
        if ModelVersion.objects.filter(project_id=mv.project_id, name=name).exclude(pk=mv.pk).exists():
            raise ValidationError({"name": _("A model version named %(name)s already exists in this project.")
                                   % {"name": name}})
        mv.name = name
    if parent is not False:
        if parent is not None:
            if parent.project_id != mv.project_id:
                raise ValidationError({"parent": _("The parent must be a model version of the same project.")})
            ancestor = parent
            while ancestor is not None:
                if ancestor.pk == mv.pk:
                    raise ValidationError({"parent": _("A version cannot descend from itself.")})
                ancestor = ancestor.parent
        mv.parent = parent
    if backend_options is not None:
        mv.backend_options = _options_clean(mv.backend, backend_options, mv.base_model)
    if trust_remote_code is not None and trust_remote_code != mv.trust_remote_code:
        if not R.is_admin(user):
            raise PermissionDenied(_("Only an admin may change trust_remote_code."))
        mv.trust_remote_code = trust_remote_code
    if metadata is not None:
        mv.metadata = {**mv.metadata, **metadata}
    mv.save()
    return mv


def model_version_delete(*, model_version: ModelVersion) -> None:
    """Deletes a version and its candidates; refused while a review round or the serving history names it."""
    try:
        model_version.delete()
    except ProtectedError:
        if ServingChange.objects.filter(Q(model_version=model_version) | Q(previous=model_version)).exists():
            raise Conflict(_("%(name)s is in the serving history and cannot be deleted.")
                           % {"name": model_version.name}) from None
        raise Conflict(_("%(name)s is used by a review round and cannot be deleted.")
                       % {"name": model_version.name}) from None


def _item_ids(project: Project, items) -> tuple[list[int], dict]:
    """Explicit items (Items, ids or a queryset) or a filter dict {task_type, status, all} -> sorted ids."""
    if isinstance(items, dict):
        spec = {k: v for k, v in items.items() if v not in (None, "", [])}
        unknown = sorted(set(spec) - {"task_type", "status", "all", "ids"})
        if unknown:
            raise ValidationError({"items": _("Unknown item filter(s): %(names)s.") % {"names": ", ".join(unknown)}})
        qs = Item.objects.filter(project=project)
        if "ids" in spec:
            return _item_ids(project, spec["ids"])
        if "task_type" in spec:
            task_types = spec["task_type"] if isinstance(spec["task_type"], list) else [spec["task_type"]]
            qs = qs.filter(task_type__in=task_types)
        if "status" in spec:
            if spec["status"] not in Item.Status.values:
                raise ValidationError({"items": _("status: %(s)r is not one of %(all)s.")
                                       % {"s": spec["status"], "all": ", ".join(Item.Status.values)}})
            qs = qs.filter(status=spec["status"])
        return list(qs.order_by("id").values_list("id", flat=True)), spec
    if isinstance(items, QuerySet):
        ids = list(items.filter(project=project).values_list("id", flat=True))
        return sorted(set(ids)), {"ids": len(ids)}
    wanted: set[int] = set()
    for entry in items or []:
        try:
            wanted.add(entry.pk if isinstance(entry, Item) else int(entry))
        except (TypeError, ValueError):
            raise ValidationError({"items": _("Not an item id: %(v)r.") % {"v": entry}}) from None
    found = set(Item.objects.filter(project=project, pk__in=wanted).values_list("id", flat=True))
    missing = sorted(wanted - found)
    if missing:
        raise ValidationError({"items": _("Item(s) not in this project: %(ids)s.")
                               % {"ids": ", ".join(map(str, missing[:20]))}})
    return sorted(found), {"ids": len(found)}


def generation_job_create(*, project: Project, user, model_versions: list, items, n_samples: int = 1,
                          params: dict | None = None, then: dict | None = None,
                          batch_size: int | None = None) -> Job:
    """Queues a `generation` job: every item x model version x sample index still missing for these
    sampling parameters gets a candidate. Items: Items, ids, a queryset, or a filter dict
    ({"task_type": ..., "status": ..., "all": true}). The job is sent once the transaction commits."""
    if not model_versions:
        raise ValidationError({"model_versions": _("Pick at least one model version.")})
    mv_ids = sorted({mv.pk if isinstance(mv, ModelVersion) else int(mv) for mv in model_versions})
    mvs = list(ModelVersion.objects.filter(project=project, pk__in=mv_ids))
    if len(mvs) != len(mv_ids):
        raise ValidationError({"model_versions": _("Model version(s) not in this project: %(ids)s.") % {
            "ids": ", ".join(map(str, sorted(set(mv_ids) - {mv.pk for mv in mvs})))}})
    try:
        n_samples = int(n_samples)
    except (TypeError, ValueError):
        raise ValidationError({"n_samples": _("Must be a whole number.")}) from None
    if not 1 <= n_samples <= MAX_SAMPLES:
        raise ValidationError({"n_samples": _("Must be between 1 and %(max)s.") % {"max": MAX_SAMPLES}})
    if batch_size is not None and not 1 <= int(batch_size) <= MAX_BATCH:
        raise ValidationError({"batch_size": _("Must be between 1 and %(max)s.") % {"max": MAX_BATCH}})
    sampling = params_normalise(params)
    for mv in mvs:
        for name in UNSUPPORTED_PARAMS.get(mv.backend, ()):
            if sampling[name]:
                raise ValidationError({"params": _(
                    "%(param)s is not supported by the %(backend)s backend of %(mv)s; set it to 0.")
                    % {"param": name, "backend": mv.backend, "mv": mv.name}})
    if isinstance(items, dict):
        _storable_check("items", items)
    _storable_check("then", then)
    item_ids, item_filter = _item_ids(project, items)
    if not item_ids:
        raise ValidationError({"items": _("No items match.")})
    total = len(item_ids) * len(mvs) * n_samples
    job_params = {
        "model_version_ids": mv_ids, "item_ids": item_ids, "item_filter": item_filter, "n_samples": n_samples,
        "sampling": sampling, "params_hash": params_hash(sampling), "then": then,
    }
    if batch_size:
        job_params["batch_size"] = int(batch_size)
    with transaction.atomic():
        return job_create(kind="generation", user=user, project=project, params=job_params, total=total)


def candidates_store(*, rows: Iterable[dict]) -> int:
    """Writes one batch of candidates; rows already there (same natural key) are left as they are, so a
    redelivered job only fills gaps. Returns how many rows were offered. NUL characters (which a model can
    emit and PostgreSQL text cannot hold) become U+FFFD."""
    objs = [Candidate(**{**row, "text": str(row.get("text", "")).replace("\x00", "\ufffd")}) for row in rows]
    Candidate.objects.bulk_create(objs, ignore_conflicts=True)
    return len(objs)


# ---- the serving version: only through the promotion gate (evaluation/gate.py) ---------------------------

MAX_REASON = 2000


def _serving_lock(project_id: int) -> ServingChange | None:
    """Needs an open transaction: locks the project row, so two promotions cannot both read the same
    serving version and each record a change on top of it; returns the current change."""
    Project.objects.select_for_update().get(pk=project_id)
    return selectors.serving_change_current(project=Project(pk=project_id))


def _reason_clean(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationError({"reason": _("Say why the gate is overridden: a reason is required.")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("At most %(max)s characters.") % {"max": MAX_REASON}})
    _storable_check("reason", reason)
    return reason


@transaction.atomic
def serving_promote(*, model_version: ModelVersion, user, force: bool = False, reason: str = "") -> ServingChange:
    """Makes `model_version` its project's serving version. Without `force` only when the gate passes it
    (Conflict otherwise, naming the failed checks); with `force`, whatever the gate says, given a reason.
    The verdict is stored with the change either way."""
    reason = _reason_clean(reason, required=force)
    current = _serving_lock(model_version.project_id)
    if current is not None and current.model_version_id == model_version.pk:
        raise Conflict(_("%(name)s is already the serving version.") % {"name": model_version.name})
    verdict = gate_verdict(model_version=model_version)
    if not force and not verdict["passed"]:
        failed = "; ".join(c["label"] for c in verdict["checks"] if not c["passed"])
        raise Conflict(_("%(name)s did not pass the promotion gate (%(failed)s). A manager may force it with a "
                         "reason.") % {"name": model_version.name, "failed": failed}, code="gate_failed")
    action = ServingChange.Action.FORCE if force else ServingChange.Action.PROMOTE
    return ServingChange.objects.create(
        project_id=model_version.project_id, model_version=model_version, action=action, reason=reason,
        previous=current.model_version if current else None, verdict=verdict,
        created_by=user if user is not None and user.is_authenticated else None)


@transaction.atomic
def serving_rollback(*, project: Project, user, reason: str = "") -> ServingChange:
    """Makes the version that served before the current one serving again (no gate: it served already).
    Repeated rollbacks walk further back, as far as the first serving version; Conflict past that."""
    reason = _reason_clean(reason, required=False)
    current = _serving_lock(project.pk)
    if current is None or current.previous_id is None:
        raise Conflict(_("There is no earlier serving version to roll back to."), code="no_previous")
    target = current.previous
    # What served before `target` last became serving: where a rollback from `target` would return.
    before = (ServingChange.objects.filter(project=project, model_version=target, pk__lt=current.pk)
              .order_by("-id").first())
    return ServingChange.objects.create(
        project=project, model_version=target, action=ServingChange.Action.ROLLBACK, reason=reason,
        previous=before.previous if before else None, verdict={},
        created_by=user if user is not None and user.is_authenticated else None)
