"""The Celery client the web side uses to hand work over by task name; it never imports `workers`."""
from celery import Celery

app = Celery("flywheel")
app.config_from_object("django.conf:settings", namespace="CELERY")
