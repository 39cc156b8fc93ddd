from django.apps import AppConfig


class Config(AppConfig):
    name = "labelstudio_app.audit"
    label = "audit"
