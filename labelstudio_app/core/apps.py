from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class Config(AppConfig):
    name = "labelstudio_app.core"
    label = "core"

    def ready(self) -> None:
        # The data dir holds everything a fresh machine writes (artifacts, uploads, the serverless broker's
        # queue files); make it up front so the web, the worker and the broker all find their folders.
        for folder in (settings.ARTIFACTS_DIR, settings.UPLOADS_DIR, settings.STATIC_ROOT,
                       settings.BROKER_DIR / "control"):
            Path(folder).mkdir(parents=True, exist_ok=True)
