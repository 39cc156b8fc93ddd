"""The run page's loss chart: training and eval loss on one pair of axes, and the table view."""
from django.urls import reverse

from labelstudio_app.training.charts import loss_chart
from labelstudio_app.training.models import TrainingRun
from tests.training.access import setup


def test_it_draws_eval_loss_on_the_same_axes_as_the_training_loss():
    chart = loss_chart([[1, 2.0], [2, 1.0]], eval_history=[[2, 3.0]])
    assert chart.y_max == "3" and chart.y_min == "1"  # the axes span both curves
    assert chart.eval_points == "604.0,36.0" and chart.eval_last == (2, 3.0)
    assert loss_chart([], eval_history=[]) is None


def test_it_shows_eval_loss_on_the_run_page_and_in_its_table(world, client_as):
    setup(world)
    run = world.training_run
    TrainingRun.objects.filter(pk=run.pk).update(loss_history=[[1, 2.5], [2, 2.0]], eval_loss_history=[[2, 2.75]])
    html = client_as(world.users["admin"]).get(
        reverse("training-detail", kwargs={"project_id": world.project.pk, "run_id": run.pk})).content.decode()
    assert 'class="loss eval-loss"' in html and "Eval loss (held-out)" in html and "2.7500" in html
