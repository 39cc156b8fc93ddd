from django.contrib import admin

from labelstudio_app.jobs.models import Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "state", "project", "progress_done", "progress_total", "created_at"]
    list_filter = ["kind", "state"]
    readonly_fields = ["heartbeat_at", "started_at", "finished_at", "worker", "attempts"]
