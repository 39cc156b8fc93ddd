from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _seed_outbound_endpoints(sender, **kwargs) -> None:
    from labelstudio_app.evaluation.services import outbound_endpoints_seed

    outbound_endpoints_seed()


class Config(AppConfig):
    name = "labelstudio_app.evaluation"
    label = "evaluation"

    def ready(self) -> None:
        from labelstudio_app.accounts import roles as R
        from labelstudio_app.evaluation.selectors import candidate_count, trained_version_count
        from labelstudio_app.projects.loop import Stage, stage_register

        stage_register(Stage(20, _("Candidate answers"), candidate_count, _("Generate answers"), "generation-list",
                             R.MANAGERS, optional=True))
        stage_register(Stage(50, _("New model versions"), trained_version_count, _("Start a training run"),
                             "training-create", R.MANAGERS, admin_only=True))

        post_migrate.connect(_seed_outbound_endpoints, sender=self)
