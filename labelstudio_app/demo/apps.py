from django.apps import AppConfig


class Config(AppConfig):
    """The demo seeder and its `flywheel_demo` command; no models."""

    name = "labelstudio_app.demo"
    label = "demo"
