"""The worker's Celery app: `celery -A workers worker -Q default,gpu`.

It is the same app object the web side sends with, plus the task modules. Torch and friends are
imported inside the job handlers, never at worker start, so a prefork pool does not fork with torch loaded.
"""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelstudio_app.settings")
django.setup()

from labelstudio_app.core.queue import app  # noqa: E402

app.conf.include = ["workers.tasks"]
import workers.tasks  # noqa: E402,F401  (registers the tasks and the sweeper)

__all__ = ["app"]
