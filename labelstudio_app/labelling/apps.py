from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "labelstudio_app.labelling"
    label = "labelling"

    def ready(self) -> None:
        from labelstudio_app.accounts import roles as R
        from labelstudio_app.labelling.selectors import items_done_count
        from labelstudio_app.projects.loop import Stage, stage_register

        stage_register(Stage(10, _("Items labelled"), items_done_count, _("Label items"), "label-page", R.ANNOTATORS))
