from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Config(AppConfig):
    name = "labelstudio_app.review"
    label = "review"

    def ready(self) -> None:
        from labelstudio_app.accounts import roles as R
        from labelstudio_app.projects.loop import Stage, stage_register
        from labelstudio_app.review.selectors import judgment_count, parent_round_count

        stage_register(Stage(70, _("Judgments"), judgment_count, _("Review answers"), "review-next", R.REVIEWERS))
        stage_register(Stage(60, _("Rounds against the parent"), parent_round_count,
                             _("Open a round of the new version against its parent"), "round-list", R.MANAGERS))
