"""The admin's loop in a real browser with a real worker: import a file, launch generation on the tiny model,
launch a tiny LoRA training job, watch each progress bar reach 100%, and find the new comparison round."""
import json

import pytest

from labelstudio_app.evaluation.models import Candidate
from labelstudio_app.jobs.models import Job
from labelstudio_app.projects.models import Item
from labelstudio_app.review.models import ComparisonRound
from labelstudio_app.training import services as training
from labelstudio_app.training.models import TrainingRun
from tests.conftest import wait_for
from tests.e2e.payloads import ALL, assert_inert
from tests.training.factories import approved_items, base_version

pytestmark = pytest.mark.worker

ROWS = [{"text": f"怎么把模型部署到 Jetson TX2？ 第 {i} 个问题", "task_type": "deployment / edge"} for i in range(5)]
ROWS.append({"text": f"{ALL} 这段文字安全吗？", "task_type": "deployment / edge"})  # hostile text, imported


def _wait_row_done(page, job_id: int, timeout_ms: int = 180_000) -> None:
    """The job's row (it polls every 2 s) shows a full progress bar and the succeeded state."""
    page.wait_for_function(
        "id => { const r = document.querySelector('#job-' + id); const p = r && r.querySelector('progress');"
        " return p && +p.value === 100 && r.classList.contains('state-succeeded'); }", arg=job_id, timeout=timeout_ms)


@pytest.mark.timeout(600)
def test_it_imports_generates_trains_and_opens_a_round(e2e, page_as, worker_process, tiny_model_dir, tmp_path):
    world = e2e.world
    project, admin = world.project, world.users["admin"]
    worker_process()
    page = page_as("admin")

    # 1. import a JSONL file through the import page: preview, then import; the job row reaches 100%.
    upload = tmp_path / "问题.jsonl"
    upload.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS), encoding="utf-8")
    page.goto(f"/projects/{project.pk}/import/")
    page.set_input_files("input[name=file]", str(upload))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".preview-rows")
    e2e.shot(page, "import-preview")
    page.locator("form.import-start button").click()
    job = wait_for(lambda: Job.objects.filter(kind="import", project=project).first(), 20, what="the import job")
    page.wait_for_selector(f"#job-{job.pk}")
    _wait_row_done(page, job.pk)
    e2e.shot(page, "import-done")
    imported = list(Item.objects.filter(project=project, source_job=job).order_by("id"))
    assert [i.text for i in imported] == [r["text"] for r in ROWS]
    # the imported hostile row shows as text on the items list and on its own page
    hostile = imported[-1]
    for path in (f"/projects/{project.pk}/items/", f"/projects/{project.pk}/items/{hostile.pk}/"):
        page.goto(path)
        page.wait_for_timeout(200)
        assert_inert(page)
    e2e.shot(page, "imported-hostile-item")

    # 2. generation on the tiny model for the imported items; the job page's bar reaches 100%.
    base = base_version(project, admin, tiny_model_dir, name="tiny 基座")
    page.goto(f"/projects/{project.pk}/generation/")
    page.get_by_label(base.name).check()
    page.fill("input[name=item_ids]", ", ".join(str(i.pk) for i in imported))
    page.fill("input[name=max_new_tokens]", "12")
    page.fill("input[name=seed]", "1")
    e2e.shot(page, "generation-form")
    page.get_by_role("button", name="Start generation").click()
    gen = wait_for(lambda: Job.objects.filter(kind="generation", project=project).first(), 20, what="generation job")
    page.wait_for_selector(f"#job-{gen.pk}")
    e2e.shot(page, "generation-started")
    assert page.locator(f"#job-{gen.pk}").count() == 1
    topbars_after_generation_submit = page.locator("header.topbar").count()  # checked at the end
    _wait_row_done(page, gen.pk)
    e2e.shot(page, "generation-done")
    assert Candidate.objects.filter(model_version=base, item__in=imported).count() == len(ROWS)

    # 3. a tiny LoRA training run from a snapshot of approved items; the run page's bar reaches 100%.
    approved_items(project, 24)
    snap = training.snapshot_create(project=project, user=admin, name="批次 1", recipe={"heldout": {"n": 3}, "seed": 1})
    page.goto(f"/projects/{project.pk}/training/new/")
    page.select_option("select[name=base_version]", str(base.pk))
    page.wait_for_load_state("networkidle")  # the form re-renders with the base's defaults
    page.select_option("select[name=snapshot]", str(snap.pk))
    for name, value in {"hp_r": "8", "hp_alpha": "16", "hp_batch_size": "4", "hp_max_seq_length": "96",
                        "hp_max_steps": "6", "hp_save_steps": "3", "hp_learning_rate": "0.005"}.items():
        page.fill(f"input[name={name}]", value)
    e2e.shot(page, "training-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Start training").click()
    run = TrainingRun.objects.get(project=project)
    e2e.shot(page, "training-started")
    # The run page polls every 2 s and shows the steps (and a loss curve) rather than a bar.
    page.wait_for_function("() => { const s = document.querySelector('#training-live'); return s && "
                           "s.querySelector('.state-succeeded') && s.querySelector('.step').innerText.trim() === '6 / 6'; }",
                           timeout=300_000)
    assert page.locator("#training-live .loss-chart svg.chart").count() == 1
    e2e.shot(page, "training-done")
    page.goto("/jobs/")  # the jobs page shows the same job with a full bar
    _wait_row_done(page, run.job_id)
    e2e.shot(page, "training-job-row")
    run.refresh_from_db()
    assert run.result_version is not None and run.result_version.parent_id == base.pk

    # 4. the training opened a blind round new vs parent; it shows on the rounds page once its generation ran.
    rnd = wait_for(lambda: ComparisonRound.objects.filter(project=project, model_a__in=[run.result_version, base])
                   .exclude(status="generating").first(), 180, 1, what="the new round to open")
    page.goto(f"/projects/{project.pk}/rounds/")
    assert page.get_by_text(rnd.name).first.is_visible()
    e2e.shot(page, "rounds")
    assert rnd.comparisons.count() == 3
    # The generation form posts with htmx and the server answers with a redirect, which htmx follows and
    # swaps a whole page (header, tabs and all) into the form: one page must have one header.
    assert topbars_after_generation_submit == 1, "the generation page nested a whole page inside itself"
