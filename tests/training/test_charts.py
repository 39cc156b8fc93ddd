"""The run page's charts: training and eval loss on one pair of axes, the learning rate, and the table view."""
from django.urls import reverse

from labelstudio_app.training.charts import run_charts
from labelstudio_app.training.models import TrainingRun
from tests.training.access import setup


def test_it_draws_eval_loss_on_the_same_axes_as_the_training_loss():
    charts = run_charts([[1, 2.0, 5e-4], [2, 1.0, 2.5e-4]], [[2, 3.0]])
    loss = charts["loss"]
    ticks = [float(t["label"]) for t in loss["y_ticks"]]
    assert ticks[0] <= 1.0 and ticks[-1] >= 3.0  # the axes span both curves
    assert [s["name"] for s in loss["series"]] == ["training loss", "eval loss (held-out)"]
    assert loss["series"][1]["dashed"] and len(loss["series"][1]["marks"]) == 1
    assert loss["table"]["rows"] == [["1", "2", ""], ["2", "1", "3"]]
    assert charts["lr"]["table"]["rows"] == [["1", "0.0005"], ["2", "0.00025"]]
    assert charts["last"] == [2, 1.0, 2.5e-4]


def test_a_run_without_points_gets_an_empty_state_not_bare_axes():
    charts = run_charts([], [])
    assert charts["loss"]["empty"] and charts["lr"] is None
    old = run_charts([[1, 2.0], [2, 1.5]], [])  # a run recorded before the learning rate was kept
    assert not old["loss"]["empty"] and old["lr"] is None


def test_it_shows_eval_loss_and_the_learning_rate_on_the_run_page_and_in_its_table(world, client_as):
    setup(world)
    run = world.training_run
    TrainingRun.objects.filter(pk=run.pk).update(loss_history=[[1, 2.5, 1e-4], [2, 2.0, 2e-4]],
                                                 eval_loss_history=[[2, 2.75]])
    html = client_as(world.users["admin"]).get(
        reverse("training-detail", kwargs={"project_id": world.project.pk, "run_id": run.pk})).content.decode()
    assert 'class="series series-1 dashed"' in html and "eval loss (held-out)" in html
    assert "Learning rate by step" in html and "0.0002" in html
    assert "Show as a table" in html and "<td class=\"num\">2.75</td>" in html


def test_the_run_page_names_hyper_parameters_as_people_read_them(world, client_as):
    setup(world)
    run = world.training_run
    TrainingRun.objects.filter(pk=run.pk).update(hyperparams={"learning_rate": 5e-4, "target_modules": [],
                                                              "packing": False})
    html = client_as(world.users["admin"]).get(
        reverse("training-detail", kwargs={"project_id": world.project.pk, "run_id": run.pk})).content.decode()
    assert '<th scope="row" title="learning_rate">Learning rate</th><td>0.0005</td>' in html
    assert "every linear layer" in html and "<td>no</td>" in html and "Peak learning rate of AdamW." in html
