from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_outbound_endpoints(sender, **kwargs) -> None:
    from labelstudio_app.evaluation.services import outbound_endpoints_seed

    outbound_endpoints_seed()


class Config(AppConfig):
    name = "labelstudio_app.evaluation"
    label = "evaluation"

    def ready(self) -> None:
        post_migrate.connect(_seed_outbound_endpoints, sender=self)
