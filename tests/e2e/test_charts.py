"""Every chart on every page, in a real browser at 1280 px: text readable (≥ 11 px as rendered), a table view
beside it, and the chart never squeezed below its own width."""
from labelstudio_app.training.models import TrainingRun
from tests.e2e.test_xss_sweep import admin_pages
from tests.test_permissions import MODULES

MEASURE = """() => [...document.querySelectorAll('figure.chart-figure')].map(f => {
  const svg = f.querySelector('svg.chart');
  if (!svg) return {empty: true, text: f.innerText};
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {title: svg.getAttribute('aria-label'), smallest: Math.min(...sizes), texts: sizes.length, scale,
          table: !!f.querySelector('details.chart-table table')};
})"""


def test_every_chart_has_readable_text_and_a_table_view(e2e, page_as):
    world = e2e.world
    for m in MODULES:
        if hasattr(m, "setup"):
            m.setup(world)
    TrainingRun.objects.filter(pk=world.training_run.pk).update(
        loss_history=[[s, 3.0 / s, 5e-4 * (1 - s / 40)] for s in range(1, 41)], eval_loss_history=[[0, 3.1], [40, 0.4]])
    from labelstudio_app.review import services as review

    for persona, pref in (("admin", "left"), ("manager", "right"), ("reviewer", "left")):  # leased by the setup
        review.judgment_submit(comparison=world.comparison, user=world.users[persona], preference=pref,
                               scores={k: 4 for k in review.SCORE_FIELDS})
    page = page_as("admin")
    drawn, empty = [], []
    for name, url in admin_pages(world):
        page.goto(url)
        for chart in page.evaluate(MEASURE):
            if chart.get("empty"):
                empty.append((name, chart["text"]))
                assert chart["text"].strip(), name  # an empty chart says why, never bare axes
                continue
            drawn.append((name, chart["title"]))
            assert chart["smallest"] >= 11, (name, chart)
            assert chart["scale"] >= 0.999, (name, chart)  # drawn at its real size, never shrunk
            assert chart["table"], (name, chart)
            if name == "training-detail" and not any(n == "training-detail" for n, _ in drawn[:-1]):
                e2e.shot(page, "training-run-charts")
    assert {n for n, _ in drawn} >= {"training-detail", "round-detail", "review-stats", "label-dashboard",
                                     "audit-detail"}, drawn
