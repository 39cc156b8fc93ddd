"""Flywheel's Django project. The package name is fixed by the project's brief; it is unrelated to the Label Studio
product."""
