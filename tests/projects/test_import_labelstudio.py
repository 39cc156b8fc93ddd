"""Label Studio exports in their three shapes (JSON, JSON_MIN, CSV): tasks become items, annotations become
annotations of their annotators (so agreement works), predictions become suggestions, and a value that
does not fit the schema refuses the whole file with the line, the control and the value."""
import csv
import io
import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelstudio_app.accounts.models import Membership
from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.services import job_enqueue
from labelstudio_app.labelling.models import Annotation, Assignment
from labelstudio_app.labelling.selectors import dashboard_numbers
from labelstudio_app.projects.importers import ImportFailed, Report, parse_text
from labelstudio_app.projects.models import Item
from tests.conftest import wait_for
from tests.factories import ProjectFactory, UserFactory
from tests.projects.factories import import_text, upload

SCHEMA = [
    {"name": "sentiment", "kind": "single_choice", "label": "Sentiment", "required": False,
     "options": [{"value": "pos", "label": "Positive", "key": "1"}, {"value": "neg", "label": "Negative", "key": "2"}]},
    {"name": "flags", "kind": "flags", "label": "Flags", "required": False,
     "options": [{"value": "robust", "label": "robust prompt"}, {"value": "not_q", "label": "not a question"}]},
    {"name": "task", "kind": "task_type", "label": "Task type", "required": False,
     "taxonomy": {"reasoning": ["multi-step", "math"], "chitchat": []}},
    {"name": "rewrite", "kind": "text", "label": "Rewrite", "required": False},
    {"name": "quality", "kind": "rating", "label": "Quality", "required": False, "min": 1, "max": 5},
]


@pytest.fixture
def ls_project(project):
    project.label_schema = SCHEMA
    project.overlap = 2
    project.save()
    return project


def choices(name, *values):
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": list(values)}}


def result(name, rtype, key, value):
    return {"from_name": name, "to_name": "text", "type": rtype, "value": {key: value}}


# The same two tasks in the three shapes: task 1 annotated by ann@example.com and by user id 17, task 2 by nobody.
ANN_FULL = {"sentiment": "pos", "flags": ["robust", "not_q"], "task": "reasoning / multi-step",
            "rewrite": "first line\nsecond line", "quality": 4}
ANN_17 = {"sentiment": "neg", "task": "chitchat", "quality": 2}
TASKS = [
    {"id": 101, "data": {"text": "怎么把它部署到 TX2？", "source": "forum"},
     "annotations": [
         {"id": 1, "completed_by": {"id": 5, "email": "Ann@Example.com"}, "result": [
             choices("sentiment", "Positive"), choices("flags", "robust", "not a question"),
             result("task", "taxonomy", "taxonomy", [["reasoning", "multi-step"]]),
             result("rewrite", "textarea", "text", ["first line", "second line"]),
             result("quality", "rating", "rating", 4)]},
         {"id": 2, "completed_by": 17, "result": [
             choices("sentiment", "neg"), result("task", "taxonomy", "taxonomy", [["chitchat"]]),
             result("quality", "rating", "rating", 2)]}],
     "predictions": [{"id": 9, "model_version": "m1", "result": [choices("sentiment", "neg")]}]},
    {"id": 102, "data": {"text": "what about TX1?"}, "annotations": [], "predictions": []},
]
MIN_ROWS = [
    {"id": 101, "text": "怎么把它部署到 TX2？", "source": "forum", "sentiment": "Positive",
     "flags": {"choices": ["robust", "not a question"]}, "task": [{"taxonomy": [["reasoning", "multi-step"]]}],
     "rewrite": {"text": ["first line", "second line"]}, "quality": [{"rating": 4}],
     "annotator": "ann@example.com", "annotation_id": 1, "created_at": "2024-03-01T09:00:00Z", "lead_time": 3.5},
    {"id": 101, "text": "怎么把它部署到 TX2？", "source": "forum", "sentiment": "neg",
     "task": [{"taxonomy": [["chitchat"]]}], "quality": [{"rating": 2}], "annotator": 17, "annotation_id": 2},
    {"id": 102, "text": "what about TX1?"},
]
COLUMNS = ["id", "text", "source", "sentiment", "flags", "task", "rewrite", "quality", "annotator", "annotation_id",
           "created_at", "lead_time"]


def as_csv(rows, columns=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (v if isinstance(v, (str, int, float)) else json.dumps(v, ensure_ascii=False))
                         for k, v in row.items()})
    return out.getvalue()


SHAPES = {
    "json": ("export.json", lambda: json.dumps(TASKS, ensure_ascii=False, indent=2)),
    "json_min": ("export-min.json", lambda: json.dumps(MIN_ROWS, ensure_ascii=False, indent=2)),
    "csv": ("export.csv", lambda: as_csv(MIN_ROWS)),
}


def annotations_by_user(project):
    return {a.annotator.username: a.values for a in
            Annotation.objects.filter(item__project=project).select_related("annotator")}


@pytest.mark.parametrize("shape", SHAPES)
def test_it_imports_each_shape_with_its_annotations_exactly(ls_project, manager, shape):
    name, content = SHAPES[shape]
    job = import_text(ls_project, manager, name, content())
    assert job.state == "succeeded", job.error
    assert job.result["items"] == 2 and job.result["annotations"] == 2
    first, second = Item.objects.filter(project=ls_project).order_by("pk")
    assert (first.external_id, first.text, second.external_id, second.text) == (
        "101", "怎么把它部署到 TX2？", "102", "what about TX1?")
    assert first.metadata["source"] == "forum"
    assert annotations_by_user(ls_project) == {"ls-ann@example.com": ANN_FULL, "ls-annotator-17": ANN_17}
    # two annotators on one item at overlap 2: the item has all its annotations; they disagree, so no final label
    first.refresh_from_db()
    assert first.status == Item.Status.LABELLED and first.final_values is None
    assert second.status == Item.Status.OPEN and not second.annotations.exists()
    # the queue counts the imported annotations: nobody else is handed task 101
    assert Assignment.objects.filter(item=first, state="submitted").count() == 2


def test_two_imported_annotators_give_agreement_and_a_final_task_type(ls_project, manager):
    tasks = [{"id": i, "data": {"text": f"question {i}?"}, "annotations": [
        {"id": 10 * i + n, "completed_by": who, "result": [
            choices("sentiment", "pos" if i % 2 else "neg"),
            result("task", "taxonomy", "taxonomy", [["reasoning", "math"]])]}
        for n, who in enumerate((3, 4))]} for i in range(1, 5)]
    job = import_text(ls_project, manager, "two.json", json.dumps(tasks))
    assert job.state == "succeeded", job.error
    items = Item.objects.filter(project=ls_project)
    assert {(i.status, i.task_type) for i in items} == {(Item.Status.DONE, "reasoning / math")}
    sentiment = next(q for q in dashboard_numbers(project=ls_project)["questions"] if q["name"] == "sentiment")
    assert sentiment["items"] == 4 and sentiment["annotators"] == 2 and sentiment["alpha"] == 1.0
    placeholders = Membership.objects.filter(project=ls_project, role="annotator", user__username__startswith="ls-")
    assert placeholders.count() == 2
    assert not any(m.user.has_usable_password() for m in placeholders)


def test_it_gives_an_annotation_to_the_member_with_that_email(ls_project, manager):
    UserFactory(username="stranger", email="ann@example.com")  # the same e-mail, not a member: never picked
    ann = UserFactory(username="ann", email="ANN@example.com")
    Membership.objects.create(user=ann, project=ls_project, role="annotator")
    job = import_text(ls_project, manager, "export.json", json.dumps(TASKS))
    assert job.state == "succeeded", job.error
    assert set(annotations_by_user(ls_project)) == {"ann", "ls-annotator-17"}


def test_a_non_member_with_the_email_gets_nothing_and_a_placeholder_is_made(ls_project, manager):
    stranger = UserFactory(username="stranger", email="ann@example.com")
    job = import_text(ls_project, manager, "export-min.json", json.dumps(MIN_ROWS))
    assert job.state == "succeeded", job.error
    assert set(annotations_by_user(ls_project)) == {"ls-ann@example.com", "ls-annotator-17"}
    assert not stranger.annotations.exists() and not stranger.memberships.exists()
    # Label Studio's lead_time (seconds) is the time spent
    assert Annotation.objects.get(annotator__username="ls-ann@example.com").time_spent_ms == 3500


def test_it_refuses_to_give_imported_work_to_a_real_account_named_like_a_placeholder(ls_project, manager):
    UserFactory(username="ls-annotator-17")  # has a password: a person, not a placeholder
    job = import_text(ls_project, manager, "export.json", json.dumps(TASKS))
    assert job.state == "failed" and "ls-annotator-17" in job.error
    assert not Item.objects.filter(project=ls_project).exists() and not Annotation.objects.exists()


def test_it_detects_json_min_when_the_first_tasks_have_no_annotations(ls_project, manager):
    rows = [{"id": 1, "text": "nobody labelled me?"}, *MIN_ROWS]
    job = import_text(ls_project, manager, "export.json", json.dumps(rows, ensure_ascii=False))
    assert job.state == "succeeded", job.error
    assert job.result["items"] == 3 and job.result["annotations"] == 2


def test_one_annotator_twice_on_one_task_is_a_line_error(ls_project):
    rows = [{"id": 1, "text": "q?", "sentiment": "pos", "annotator": 17, "annotation_id": 1},
            {"id": 1, "text": "q?", "sentiment": "neg", "annotator": "17", "annotation_id": 2}]
    report = Report()
    parse_text(as_csv(rows, ["id", "text", "sentiment", "annotator", "annotation_id"]), fmt="labelstudio_csv",
               report=report, container="csv", schema=SCHEMA)
    assert report.messages() == ["line 3: annotation 2: annotator #17 already annotated this task; an annotator "
                                 "gives one annotation per item"]


def test_rows_of_one_task_must_be_together(ls_project):
    rows = [{"id": 1, "text": "q?", "annotator": 1, "annotation_id": 1}, {"id": 2, "text": "r?"},
            {"id": 1, "text": "q?", "annotator": 2, "annotation_id": 2},
            {"id": 1, "text": "q?", "annotator": 3, "annotation_id": 3}]
    report = Report()
    parse_text("\n".join(json.dumps(r) for r in rows), fmt="labelstudio_min", report=report, schema=SCHEMA)
    assert report.messages() == ["line 3: task 1 was already read at line 1; the rows of one task must be next "
                                 "to each other"]


def test_a_mapping_sends_a_control_to_another_question_or_ignores_it(ls_project, manager):
    tasks = [{"id": 1, "data": {"text": "q?"}, "annotations": [{"id": 1, "completed_by": 3, "result": [
        choices("mood", "Negative"), choices("sentiment", "not an option"),
        {"from_name": "span", "type": "labels", "value": {"labels": ["X"], "start": 0, "end": 1}}]}]}]
    job = import_text(ls_project, manager, "m.json", json.dumps(tasks))
    assert job.state == "failed" and "control 'mood' matches no question" in job.error
    job = import_text(ls_project, manager, "m.json", json.dumps(tasks),
                      options={"mapping": {"mood": "sentiment", "sentiment": None, "span": None}})
    assert job.state == "succeeded", job.error
    assert annotations_by_user(ls_project) == {"ls-annotator-3": {"sentiment": "neg"}}


def test_a_mapping_to_an_unknown_question_is_refused_before_any_job(ls_project, manager, api_as):
    r = api_as(manager).post(f"/api/projects/{ls_project.pk}/imports/",
                             {"file": upload("m.json", json.dumps(TASKS)), "format": "labelstudio",
                              "options": json.dumps({"mapping": {"sentiment": "nope"}})}, format="multipart")
    assert r.status_code == 400 and "nope" in json.dumps(r.json())
    assert not Item.objects.filter(project=ls_project).exists()
    r = api_as(manager).post(f"/api/projects/{ls_project.pk}/imports/preview/",
                             {"file": upload("m.json", json.dumps(TASKS)),
                              "options": json.dumps({"mapping": {"rewrite": None}})}, format="multipart")
    assert r.status_code == 200 and r.json()["format"] == "labelstudio"
    assert r.json()["report"]["controls"] == {"sentiment": "sentiment", "flags": "flags", "task": "task",
                                              "rewrite": None, "quality": "quality"}
    assert [len(row.get("annotations", [])) for row in r.json()["rows"]] == [2, 0]


def test_predictions_are_suggestions_shown_to_the_annotator_never_labels(ls_project, manager, client_as):
    ls_project.overlap = 3
    ls_project.save()
    job = import_text(ls_project, manager, "export.json", json.dumps(TASKS[:1]))
    assert job.state == "succeeded", job.error
    item = Item.objects.get(project=ls_project)
    assert item.metadata["suggestions"] == {"sentiment": "neg"}
    assert "ls_predictions" not in item.metadata and "ls_annotations" not in item.metadata
    assert Annotation.objects.filter(item=item).count() == 2  # the prediction is not an annotation
    annotator = UserFactory(username="labeller")
    Membership.objects.create(user=annotator, project=ls_project, role="annotator")
    html = client_as(annotator).get(reverse("label-page", kwargs={"project_id": ls_project.pk})).content.decode()
    assert "怎么把它部署到 TX2？" in html
    assert "Suggested" in html and "Sentiment: <span" in html and "Negative" in html
    assert 'value="neg" data-key="2" checked' not in html  # a hint, not a pre-ticked answer


@pytest.mark.parametrize("shape", SHAPES)
def test_an_unmappable_value_is_a_line_error_and_nothing_is_stored(ls_project, manager, shape):
    name, content = SHAPES[shape]
    bad = content().replace('"Positive"', '"Maybe"').replace(",Positive,", ",Maybe,")
    job = import_text(ls_project, manager, name, bad)
    assert job.state == "failed"
    line = 2  # where the task starts (JSON), where its row starts (JSON_MIN, CSV: after the header)
    assert f"line {line}: control 'sentiment' value 'Maybe' is not an option of question 'sentiment'" in job.error
    assert not Item.objects.filter(project=ls_project).exists()
    assert not Annotation.objects.exists() and not Membership.objects.filter(user__username__startswith="ls-").exists()


def test_a_pairwise_control_is_refused_since_the_schema_has_no_pairwise_kind(ls_project, manager):
    tasks = [{"id": 1, "data": {"text": "q?"}, "annotations": [{"id": 1, "completed_by": 3, "result": [
        {"from_name": "sentiment", "type": "pairwise", "value": {"selected": "left"}}]}]}]
    tasks[0]["annotations"][0]["result"].append({"from_name": "pref", "type": "pairwise",
                                                  "value": {"selected": "right"}})
    job = import_text(ls_project, manager, "p.json", json.dumps(tasks))
    assert job.state == "failed" and "line 1: control 'sentiment' is a pairwise comparison" in job.error
    assert not Item.objects.filter(project=ls_project).exists()
    job = import_text(ls_project, manager, "p.json", json.dumps(tasks), options={"mapping": {"sentiment": None}})
    assert job.state == "failed" and "control 'pref' is a pairwise comparison (selected right)" in job.error
    job = import_text(ls_project, manager, "p.json", json.dumps(tasks),
                      options={"mapping": {"sentiment": None, "pref": None}})
    assert job.state == "succeeded", job.error
    # nothing of the annotation is left: it is dropped (counted), not stored as an empty label
    assert job.result["items"] == 1 and job.result["annotations"] == 0
    assert job.result["dropped"] == {"ls_empty_annotation": 1}


def test_it_reads_crlf_csv_with_json_cells_and_multiline_text(ls_project, manager):
    rows = [{"id": 7, "text": "line one\r\nline two?", "rewrite": {"text": ["a, b", "c \"quoted\""]},
             "flags": {"choices": ["robust", "not_q"]}, "annotator": 21, "annotation_id": 1}]
    content = "\ufeff" + as_csv(rows, ["id", "text", "rewrite", "flags", "annotator", "annotation_id"])
    assert "\r\n" in content
    job = import_text(ls_project, manager, "export.csv", content)
    assert job.state == "succeeded", job.error
    item = Item.objects.get(project=ls_project)
    assert item.text == "line one\r\nline two?" or item.text == "line one\nline two?"
    assert annotations_by_user(ls_project) == {
        "ls-annotator-21": {"rewrite": 'a, b\nc "quoted"', "flags": ["robust", "not_q"]}}


def test_the_preview_shows_the_mapping_and_a_changed_mapping_previews_again(ls_project, manager, client_as):
    tasks = [{"id": 1, "data": {"text": "q?"}, "annotations": [{"id": 1, "completed_by": 3, "result": [
        choices("mood", "Negative"), result("quality", "rating", "rating", 4)]}]}]
    c = client_as(manager)
    r = c.post(reverse("import-preview", kwargs={"project_id": ls_project.pk}),
               {"file": upload("export.json", json.dumps(tasks)), "format": "auto", "mapping": '{"quality": null}'},
               HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert "line 1: control &#x27;mood&#x27; matches no question" in html and 'name="token"' in html
    assert 'class="import-start"' not in html  # no Import button while the preview has problems
    assert '<select name="map:quality"' in html and '<option value="" selected>' in html
    token = html.split('name="token" value="')[1].split('"')[0]
    options = html.split('name="options" value="')[1].split('"')[0].replace("&quot;", '"')
    assert json.loads(options)["mapping"] == {"quality": None}
    r = c.post(reverse("import-remap", kwargs={"project_id": ls_project.pk}),
               {"token": token, "format": "auto", "options": options, "map:mood": "sentiment", "map:quality": "quality"},
               HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "Problems" not in html and 'class="import-start"' in html
    assert '<option value="sentiment" selected>' in html
    options = html.split('name="options" value="')[1].split('"')[0].replace("&quot;", '"')
    assert json.loads(options)["mapping"] == {"quality": "quality", "mood": "sentiment"}
    r = c.post(reverse("import-remap", kwargs={"project_id": ls_project.pk}),
               {"token": token, "format": "auto", "options": options, "map:mood": "nope"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "nope" in r.content.decode()


def test_only_managers_can_remap_an_upload(world, client_as):
    r = client_as(world.users["annotator"]).post(reverse("import-remap", kwargs={"project_id": world.project.pk}),
                                                 {"token": "0" * 32, "format": "auto", "options": "{}"})
    assert r.status_code == 404


# ---- the parser as a property: valid input imports exactly, a bad value names its line ------------------

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s)
answer = st.fixed_dictionaries({}, optional={
    "sentiment": st.sampled_from(["pos", "neg"]),
    "flags": st.lists(st.sampled_from(["robust", "not_q"]), min_size=1, max_size=2, unique=True),
    "task": st.sampled_from(["reasoning / multi-step", "reasoning / math", "chitchat"]),
    "rewrite": st.lists(text, min_size=1, max_size=3),
    "quality": st.integers(1, 5),
})
task = st.tuples(text, st.lists(answer, max_size=3))


def min_cell(name, value):
    """A value as Label Studio's JSON_MIN writes it."""
    if name == "sentiment":
        return value
    if name == "flags":
        return value[0] if len(value) == 1 else {"choices": value}
    if name == "task":
        return [{"taxonomy": [value.split(" / ")]}]
    if name == "rewrite":
        return value[0] if len(value) == 1 else {"text": value}
    return [{"rating": value}]


def expected(ans):
    out = dict(ans)
    if "rewrite" in out:
        out["rewrite"] = "\n".join(out["rewrite"])
    if "flags" in out:
        out["flags"] = [v for v in ("robust", "not_q") if v in out["flags"]]
    return out


def encode(shape, tasks):
    if shape == "json":
        kinds = {"sentiment": ("choices", "choices"), "flags": ("choices", "choices"),
                 "task": ("taxonomy", "taxonomy"), "rewrite": ("textarea", "text"), "quality": ("rating", "rating")}

        def res(name, value):
            rtype, key = kinds[name]
            if name == "sentiment":
                value = [value]
            elif name == "task":
                value = [value.split(" / ")]
            return result(name, rtype, key, value)

        return "\n".join(json.dumps({"id": i, "data": {"text": t}, "annotations": [
            {"id": n, "completed_by": n, "result": [res(k, v) for k, v in a.items()]} for n, a in enumerate(anns)]},
            ensure_ascii=False) for i, (t, anns) in enumerate(tasks)), "jsonl"
    rows = []
    for i, (t, anns) in enumerate(tasks):
        rows += [{"id": i, "text": t, **{k: min_cell(k, v) for k, v in a.items()}, "annotator": n,
                  "annotation_id": n} for n, a in enumerate(anns)] or [{"id": i, "text": t}]
    if shape == "json_min":
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "jsonl"
    return as_csv(rows, ["id", "text", "sentiment", "flags", "task", "rewrite", "quality", "annotator",
                         "annotation_id"]), "csv"


FORMAT = {"json": "labelstudio", "json_min": "labelstudio_min", "csv": "labelstudio_csv"}


@SETTINGS
@given(st.sampled_from(list(SHAPES)), st.lists(task, min_size=1, max_size=5))
def test_it_parses_every_valid_export_exactly(shape, tasks):
    content, container = encode(shape, tasks)
    report = Report()
    records = parse_text(content, fmt=FORMAT[shape], report=report, container=container, schema=SCHEMA)
    assert report.ok, report.messages()
    assert [(r.external_id, r.text) for r in records] == [(str(i), t) for i, (t, _) in enumerate(tasks)]
    for record, (_, anns) in zip(records, tasks, strict=True):
        assert [(a["annotator"]["id"], a["values"]) for a in record.annotations] == [
            (n, expected(a)) for n, a in enumerate(anns) if a]  # an empty annotation is dropped, and counted
    assert report.dropped["ls_empty_annotation"] == sum(1 for _, anns in tasks for a in anns if not a)


@SETTINGS
@given(st.sampled_from(list(SHAPES)), st.lists(task, min_size=1, max_size=4), st.data())
def test_a_bad_choice_anywhere_refuses_the_file_naming_its_line_and_value(shape, tasks, data):
    at = data.draw(st.integers(0, len(tasks) - 1))
    t, anns = tasks[at]
    tasks[at] = (t, [*anns, {"sentiment": "Maybe"}])
    content, container = encode(shape, tasks)
    report = Report()
    parse_text(content, fmt=FORMAT[shape], report=report, container=container, schema=SCHEMA)
    assert report.error_count == 1
    line, reason = report.errors[0]
    assert reason == "control 'sentiment' value 'Maybe' is not an option of question 'sentiment'"
    assert "Maybe" in content.split("\n")[line - 1]


fragments = st.lists(st.sampled_from([
    '{"id": 1, "text": "q?", "sentiment": "pos", "annotator": 3}', '{"id": 1, "text": "q?"}', '{"id": 2}',
    '{"data": {"text": "t"}, "annotations": [{"completed_by": 1, "result": [{"from_name": "quality", '
    '"type": "rating", "value": {"rating": 9}}]}]}', '{"data": {"text": "t"}, "annotations": [{"result": []}]}',
    '{"data": {"text": "t"}, "predictions": 5}', '"annotator": "x"', '"task": [{"taxonomy": [["a", "b", "c"]]}]',
    "id,text,sentiment,annotator", "1,q?,pos,3", '1,q?,"{""choices"": 1}",', "[", "]", ",", "{", "}", "\n", "\r\n",
    "null", "中文？", '"', "2,,,",
]), min_size=0, max_size=20).map("".join)


@SETTINGS
@given(fragments, st.sampled_from(list(FORMAT.values())), st.sampled_from(["jsonl", "json", "csv"]))
def test_it_never_crashes_and_every_error_names_a_line(content, fmt, container):
    if fmt == "labelstudio_csv":
        container = "csv"
    report = Report()
    try:
        records = parse_text(content, fmt=fmt, report=report, container=container, schema=SCHEMA)
    except ImportFailed as exc:
        assert str(exc)
        return
    n_lines = max(1, content.count("\n") + 1)
    for line, reason in report.errors:
        assert 1 <= line <= n_lines and reason, (line, reason)
    if report.ok:
        assert all(r.text.strip() for r in records)


@pytest.mark.worker
def test_a_worker_process_imports_annotations_across_batches(worker_process, api_as):
    """In a real worker with one item per batch: item ids are found batch by batch and an annotator seen in
    an earlier batch keeps one account."""
    worker_process(extra_env={"FLYWHEEL_IMPORT_BATCH_SIZE": "1"})
    project = ProjectFactory(label_schema=SCHEMA, overlap=2)
    manager = UserFactory(username="ls_worker_manager")
    Membership.objects.create(user=manager, project=project, role="manager")
    tasks = [{**TASKS[0], "id": 201}, TASKS[1], {**TASKS[0], "id": 203}]
    r = api_as(manager).post(f"/api/projects/{project.pk}/imports/",
                             {"file": upload("export.json", json.dumps(tasks, ensure_ascii=False))}, format="multipart")
    assert r.status_code == 202, r.content
    job_enqueue(job_id=r.json()["id"])
    job = wait_for(lambda: (j := Job.objects.get(pk=r.json()["id"])).is_finished and j, timeout=60, what="the import")
    assert job.state == "succeeded", job.error
    by_item = {i.external_id: sorted(a.annotator.username for a in i.annotations.select_related("annotator"))
               for i in Item.objects.filter(project=project)}
    assert by_item == {"201": ["ls-ann@example.com", "ls-annotator-17"], "102": [],
                       "203": ["ls-ann@example.com", "ls-annotator-17"]}
    assert Membership.objects.filter(project=project, user__username__startswith="ls-").count() == 2
