"""`manage.py flywheel_demo`: runs the demo seeder (`labelstudio_app.demo.seed`). Safe to run again."""
from django.core.management.base import BaseCommand
from django.db import transaction

from labelstudio_app.demo import seed as demo


class Command(BaseCommand):
    help = "Create demo users, a demo project and import the sample group-chat log (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--messages", type=int, default=3000, help="Chat messages in the sample log.")
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, messages: int, seed: int, **options):
        say = self.stdout.write
        with transaction.atomic():
            users = demo.demo_users(say=say)
            project = demo.demo_project(users=users)
            job = demo.demo_import(project=project, user=users["admin"], messages=messages, seed=seed, say=say)
        self.stdout.write(self.style.SUCCESS(f"Demo project #{project.pk}: {project.name}"))
        if job is not None:
            self.stdout.write(f"Import job #{job.pk} queued: a running worker imports the sample chat log "
                              "(`celery -A workers worker -Q default,gpu`).")
        with transaction.atomic():
            demo.demo_model(project=project, say=say)
