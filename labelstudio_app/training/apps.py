from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "labelstudio_app.training"
    label = "training"

    def ready(self) -> None:
        from labelstudio_app.accounts import roles as R
        from labelstudio_app.projects.loop import Stage, stage_register
        from labelstudio_app.training.selectors import finished_run_count, snapshot_count

        stage_register(Stage(30, _("Snapshots"), snapshot_count, _("Build a snapshot"), "training-snapshot-create",
                             R.MANAGERS))
        stage_register(Stage(40, _("Finished training runs"), finished_run_count, _("Start a training run"),
                             "training-create", R.MANAGERS, admin_only=True))
