"""Writes of the labelling domain: the work queue, annotations, QA decisions, the label schema.

Concurrency rule: whoever adds a live claim on an item (a lease or a submitted annotation) holds that
item's row lock (`SELECT ... FOR UPDATE`) while it checks and adds the claim in one conditional
statement. On PostgreSQL the candidate search uses SKIP LOCKED, so annotators never wait on each
other; on SQLite writers are serialised by the IMMEDIATE transaction mode, and the same conditional
statements keep the rules.
Writes. Raises ValidationError (keyed by field), PermissionDenied or core.errors.Conflict; nothing else (docs/rules.md).
"""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from labelstudio_app.core.errors import Conflict
from labelstudio_app.labelling.models import Annotation, Assignment
from labelstudio_app.projects.models import Item, Project
from labelstudio_app.projects.schema import annotation_validate, schema_validate

State = Assignment.State
Status = Annotation.Status
TIME_SPENT_MAX_MS = 3_600_000  # one hour: anything longer is a forgotten tab, not work
TIME_SPENT_SLACK_MS = 2_000
CLAIM_ATTEMPTS = 5


def _live(now) -> Q:
    return Q(state=State.SUBMITTED) | Q(state=State.LEASED, leased_until__gt=now)


def _lease_until(now):
    return now + timedelta(minutes=settings.LABELLING_LEASE_MINUTES)


def _room_sql() -> str:
    """SQL true when the item (param) has fewer live claims than the overlap (param), or is gold."""
    table = Assignment._meta.db_table
    return (f"(%s OR (SELECT COUNT(*) FROM {table} x WHERE x.item_id = %s AND (x.state = 'submitted' "
            f"OR (x.state = 'leased' AND x.leased_until > %s))) < %s)")


def _claim_insert(*, item: Item, project: Project, user, now, state: str = State.LEASED) -> bool:
    """Needs the item's row lock. Inserts this annotator's claim if the item still has room; True when it did."""
    table = Assignment._meta.db_table
    room = _room_sql()
    sql = (f"INSERT INTO {table} (item_id, project_id, annotator_id, state, leased_at, leased_until) "
           f"SELECT %s, %s, %s, %s, %s, %s WHERE {room} ON CONFLICT (item_id, annotator_id) DO NOTHING")
    params = [item.pk, project.pk, user.pk, state, now, _lease_until(now), item.is_gold, item.pk, now, project.overlap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _claim_renew(*, assignment: Assignment, item: Item, project: Project, now, state: str = State.LEASED) -> bool:
    """Needs the item's row lock. Turns this annotator's skipped / expired row back into a claim if there is room."""
    table = Assignment._meta.db_table
    room = _room_sql()
    sql = (f"UPDATE {table} SET state = %s, leased_at = %s, leased_until = %s, skipped_at = NULL "
           f"WHERE id = %s AND state IN ('skipped', 'expired', 'leased') AND {room}")
    params = [state, now, _lease_until(now), assignment.pk, item.is_gold, item.pk, now, project.overlap]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _candidates(*, project: Project, user, now, exclude: list[int]):
    live = (Assignment.objects.filter(item=OuterRef("pk")).filter(_live(now)).order_by()
            .values("item").annotate(n=Count("pk")).values("n"))
    seen = Assignment.objects.filter(item=OuterRef("pk"), annotator=user)
    qs = (Item.objects.filter(project=project, status=Item.Status.OPEN)
          .alias(taken=Coalesce(Subquery(live, output_field=IntegerField()), Value(0)))
          .filter(Q(taken__lt=project.overlap) | Q(is_gold=True))
          .exclude(Exists(seen)))
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    return qs.order_by("id").select_for_update(skip_locked=True, of=("self",))


def _returning(*, project: Project, user, now, exclude: list[int]):
    """This annotator's skipped items and lapsed leases: the back of their queue, oldest skip first."""
    qs = (Assignment.objects.filter(project=project, annotator=user, item__status=Item.Status.OPEN)
          .filter(Q(state__in=[State.SKIPPED, State.EXPIRED]) | Q(state=State.LEASED, leased_until__lte=now))
          .select_related("item"))
    if exclude:
        qs = qs.exclude(item_id__in=exclude)
    return (qs.order_by(F("skipped_at").asc(nulls_first=True), "id")
            .select_for_update(skip_locked=True, of=("item",)))


def item_next_for_annotator(*, project: Project, user) -> Item | None:
    """Claims the next item for `user` (runs its own transaction). Returns the item the user already
    holds a live lease on, else a fresh one, else one they skipped; None when nothing is left for them."""
    now = timezone.now()
    with transaction.atomic():
        held = (Assignment.objects.filter(project=project, annotator=user, state=State.LEASED, leased_until__gt=now)
                .select_related("item").order_by("-leased_at").first())
        if held is not None:
            return held.item
        tried: list[int] = []
        for _ in range(CLAIM_ATTEMPTS):  # a stale candidate (filled since our snapshot) costs one more round
            item = _candidates(project=project, user=user, now=now, exclude=tried).first()
            if item is None:
                break
            if _claim_insert(item=item, project=project, user=user, now=now):
                return item
            tried.append(item.pk)
        for _ in range(CLAIM_ATTEMPTS):
            back = _returning(project=project, user=user, now=now, exclude=tried).first()
            if back is None:
                return None
            if _claim_renew(assignment=back, item=back.item, project=project, now=now):
                return back.item
            tried.append(back.item_id)
    return None


def assignment_skip(*, item: Item, user) -> None:
    """Puts the item at the back of this annotator's queue and frees their slot on it."""
    now = timezone.now()
    with transaction.atomic():
        changed = Assignment.objects.filter(item=item, annotator=user, state__in=[State.LEASED, State.EXPIRED]).update(
            state=State.SKIPPED, skipped_at=now)
        if not changed:
            Assignment.objects.bulk_create(
                [Assignment(item=item, project_id=item.project_id, annotator=user, state=State.SKIPPED,
                            leased_at=now, leased_until=now, skipped_at=now)], ignore_conflicts=True)


def _time_bounded(time_spent_ms, assignment: Assignment | None, now) -> int:
    try:
        value = max(0, int(time_spent_ms or 0))
    except (TypeError, ValueError):
        value = 0
    if assignment is not None and assignment.state == State.LEASED and assignment.leased_until > now:
        elapsed = int((now - assignment.leased_at).total_seconds() * 1000) + TIME_SPENT_SLACK_MS
        value = min(value, elapsed)
    return min(value, TIME_SPENT_MAX_MS)


def _ensure_claim(*, item: Item, project: Project, user, assignment: Assignment | None, now) -> None:
    """Needs the item's row lock. The user may submit an item they were handed: with a live lease, to edit
    their submitted annotation, or with a lapsed lease while the item still has room. An item never handed to
    them (or one they skipped, until the queue hands it back) is refused."""
    if assignment is None or assignment.state == State.SKIPPED:
        raise Conflict(_("This item was not given to you; take your next item from the labelling page."))
    if assignment.state == State.REJECTED:
        raise Conflict(_("QA rejected your annotation of this item; it went to another annotator."))
    if assignment.state == State.SUBMITTED or (assignment.state == State.LEASED and assignment.leased_until > now):
        return
    if not _claim_renew(assignment=assignment, item=item, project=project, now=now):
        raise Conflict(_("Your lease on this item ran out and it was given to other annotators."))


def annotation_submit(*, item: Item, user, values, time_spent_ms=0) -> Annotation:
    """Validates and stores the user's annotation (editing an earlier one), completes their lease, and moves
    the item on: `labelled` at its overlap, `done` with a final label when the annotators agree and no QA is
    required. Raises ValidationError (naming the field) or Conflict; nothing is stored then."""
    project = item.project
    clean = annotation_validate(schema=project.label_schema, values=values)
    now = timezone.now()
    with transaction.atomic():
        # the texts and JSON the settling never reads (a model's answers can be kilobytes) stay in the table
        item = (Item.objects.select_for_update(of=("self",)).select_related("project")
                .defer("text", "context", "metadata", "reference_answer").get(pk=item.pk))
        project = item.project
        # every annotation has its assignment row, so one read brings both and the QA lock
        assignment = (Assignment.objects.filter(item=item, annotator=user)
                      .annotate(decided=Exists(Annotation.objects.filter(item=item, annotator=user,
                                                                         status__in=QA_LOCKED))).first())
        if assignment is not None and assignment.decided:  # a re-submit must not undo the reviewer's accept or fix
            raise Conflict(_("A reviewer has already decided on your annotation of this item; it can no "
                                  "longer be changed."))
        _ensure_claim(item=item, project=project, user=user, assignment=assignment, now=now)
        annotation = Annotation.objects.bulk_create(
            [Annotation(item=item, annotator=user, values=clean, status=Status.SUBMITTED,
                        time_spent_ms=_time_bounded(time_spent_ms, assignment, now))],
            update_conflicts=True, unique_fields=["item", "annotator"],
            update_fields=["values", "time_spent_ms", "status", "qa_values", "updated_at"])[0]
        if annotation.pk is None:
            annotation = Annotation.objects.get(item=item, annotator=user)
        Assignment.objects.filter(item=item, annotator=user).update(state=State.SUBMITTED, leased_until=now)
        _item_settle(item=item, project=project)
    return annotation


def annotations_import(*, project: Project, answers: list[tuple[int, object, dict, int]]) -> int:
    """Needs the transaction that created the items (an import): nobody else sees them yet, so no row locks.
    Stores annotations made elsewhere, `(item id, annotator, values, time spent in ms)`, as `annotation_submit`
    would: validated
    against the schema, each with its submitted assignment (the queue's overlap counts it), then each item
    settled (status, final label, task type). Raises ValidationError naming the field."""
    if not answers:
        return 0
    now = timezone.now()
    clean = [(item_id, user, annotation_validate(schema=project.label_schema, values=values),
              min(max(0, int(ms or 0)), TIME_SPENT_MAX_MS)) for item_id, user, values, ms in answers]
    Assignment.objects.bulk_create([
        Assignment(item_id=item_id, project=project, annotator=user, state=State.SUBMITTED, leased_at=now,
                   leased_until=now) for item_id, user, _values, _ms in clean])
    Annotation.objects.bulk_create([Annotation(item_id=item_id, annotator=user, values=values, time_spent_ms=ms,
                                               status=Status.SUBMITTED) for item_id, user, values, ms in clean])
    for item in Item.objects.filter(pk__in={row[0] for row in clean}).order_by("pk"):
        _item_settle(item=item, project=project)
    return len(clean)


def _final_from_agreement(schema: list[dict], answers: list[dict]) -> dict | None:
    """The shared label when every annotator gave the same answer to every non-text question; text answers
    (a rewrite, say) come from the first annotation that has one."""
    first = answers[0]
    for question in schema:
        if question["kind"] == "text":
            continue
        name = question["name"]
        if any(a.get(name) != first.get(name) for a in answers[1:]):
            return None
    final = dict(first)
    for question in schema:
        if question["kind"] == "text":
            texts = [a[question["name"]] for a in answers if a.get(question["name"])]
            if texts:
                final[question["name"]] = texts[0]
    return final


def _item_settle(*, item: Item, project: Project) -> None:
    """Needs the item's row lock. Recomputes the item's status and final label from its annotations."""
    rows = list(Annotation.objects.filter(item=item).exclude(status=Status.REJECTED)
                .order_by("created_at", "id").values_list("values", "status", "qa_values", "qa_at"))
    decided = sorted((qa_at, qa if status == Status.FIXED else values) for values, status, qa, qa_at in rows
                     if status in (Status.ACCEPTED, Status.FIXED))
    if item.is_gold:  # gold stays in everyone's queue; its final label is the known answer
        status, final = Item.Status.OPEN, item.gold_values
    elif decided:  # the latest reviewer decision wins
        status, final = Item.Status.DONE, decided[-1][1]
    elif len(rows) < project.overlap:
        status, final = Item.Status.OPEN, None
    elif project.qa_required:
        status, final = Item.Status.LABELLED, None
    else:
        final = _final_from_agreement(project.label_schema, [row[0] for row in rows])
        status = Item.Status.DONE if final is not None else Item.Status.LABELLED
    task_type = _final_task_type(project.label_schema, final) or item.task_type
    if (status, final, task_type) != (item.status, item.final_values, item.task_type):
        Item.objects.filter(pk=item.pk).update(status=status, final_values=final, task_type=task_type)


def _final_task_type(schema: list, final: dict | None) -> str:
    """The task type a final label sets ("level1 / level2"), so filters and per-task-type statistics use the
    labelled type rather than the imported one; "" when the label sets none (the imported type stays)."""
    for question in schema:
        if question["kind"] == "task_type" and final and final.get(question["name"]):
            return str(final[question["name"]])[:Item._meta.get_field("task_type").max_length]
    return ""


QA_ACTIONS = ("accept", "fix", "reject")
QA_LOCKED = (Status.ACCEPTED, Status.FIXED)  # decided annotations; a rejected one is locked by its assignment


def annotation_review(*, annotation: Annotation, user, action: str, values=None) -> Annotation:
    """A reviewer's QA decision. accept: the annotation becomes the item's final label; fix: the reviewer's
    corrected values do; reject: the annotator's slot is freed and the item returns to the queue for
    another annotator. Only annotations waiting for QA (their item labelled, or sent back to QA) are decided,
    and never by their own annotator. Raises ValidationError for bad values or an annotation already decided
    or not waiting, PermissionDenied for one's own annotation."""
    if annotation.annotator_id == user.pk:
        raise PermissionDenied(_("You cannot review your own annotation."))
    if action not in QA_ACTIONS:
        raise ValidationError({"action": _("action: must be one of %(all)s") % {"all": ", ".join(QA_ACTIONS)}})
    project = annotation.item.project
    clean = annotation_validate(schema=project.label_schema, values=values) if action == "fix" else None
    now = timezone.now()
    with transaction.atomic():
        item = Item.objects.select_for_update(of=("self",)).select_related("project").get(pk=annotation.item_id)
        status = {"accept": Status.ACCEPTED, "fix": Status.FIXED, "reject": Status.REJECTED}[action]
        waiting = Q(qa_requested_at__isnull=False) if item.status != Item.Status.LABELLED else Q()
        changed = Annotation.objects.filter(waiting, pk=annotation.pk, status=Status.SUBMITTED).update(
            status=status, qa_values=clean, qa_by=user, qa_at=now, qa_requested_at=None, updated_at=now)
        if not changed:
            if Annotation.objects.filter(pk=annotation.pk, status=Status.SUBMITTED).exists():
                raise ValidationError({"action": _("action: this annotation is not waiting for QA (its item "
                                                   "does not have all its annotations yet)")})
            raise ValidationError({"action": _("action: this annotation was already reviewed")})

        if action == "reject":
            Assignment.objects.filter(item=item, annotator_id=annotation.annotator_id).update(state=State.REJECTED)
        else:  # the reviewer's decision settles the item: the others' pending annotations leave the QA queue
            Annotation.objects.filter(item=item, status=Status.SUBMITTED, qa_requested_at__isnull=False).exclude(
                pk=annotation.pk).update(qa_requested_at=None)
        _item_settle(item=item, project=item.project)
    annotation.refresh_from_db()
    return annotation


def qa_items_enqueue(*, project: Project, items, user, reason: str) -> int:
    """Sends items back to QA (e.g. from the label audit): their annotations wait for a reviewer again with
    `reason` shown; the items keep their current final label until the reviewer decides. Returns how many
    annotations were queued."""
    item_ids = [getattr(i, "pk", i) for i in items]
    with transaction.atomic():
        return (Annotation.objects.filter(item__project=project, item_id__in=item_ids)
                .exclude(status=Status.REJECTED)
                .update(status=Status.SUBMITTED, qa_requested_at=timezone.now(), qa_reason=(reason or "")[:500],
                        qa_values=None))


def project_schema_update(*, project: Project, schema, instructions: str | None = None) -> list[dict]:
    """Validates and stores a project's label schema (and instructions when given)."""
    try:
        clean = schema_validate(schema)
    except ValidationError as exc:
        raise ValidationError({"label_schema": exc.messages}) from None
    fields = {"label_schema": clean}
    if instructions is not None:
        fields["instructions"] = instructions
    Project.objects.filter(pk=project.pk).update(**fields)
    project.label_schema = clean
    if instructions is not None:
        project.instructions = instructions
    return clean
