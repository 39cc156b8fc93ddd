"""The run page's charts: training and held-out eval loss on one pair of axes, and the learning rate by step."""
from django.utils.translation import gettext as _

from labelstudio_app.core import charts


def run_charts(loss_history: list, eval_history: list) -> dict:
    """loss_history: [[step, loss, lr?], …]; eval_history: [[step, loss], …]."""
    loss = charts.lines(
        [{"name": _("training loss"), "points": [(p[0], p[1]) for p in loss_history]},
         {"name": _("eval loss (held-out)"), "points": [(p[0], p[1]) for p in eval_history], "dashed": True}],
        title=_("Training loss by step"), x_label=_("step"), y_label=_("loss"),
        empty=_("The loss curve appears with the first steps."))
    lr_points = [(p[0], p[2]) for p in loss_history if len(p) > 2 and p[2] is not None]
    lr = charts.lines([{"name": _("learning rate"), "points": lr_points}], title=_("Learning rate by step"),
                      x_label=_("step"), y_label=_("learning rate"), height=180,
                      empty=_("The learning rate appears with the first steps.")) if lr_points else None
    return {"loss": loss, "lr": lr, "last": loss_history[-1] if loss_history else None}
