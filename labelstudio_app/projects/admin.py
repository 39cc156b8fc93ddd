from django.contrib import admin

from labelstudio_app.projects.models import Item, Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "overlap", "qa_required", "created_at"]
    search_fields = ["name"]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["id", "project", "task_type", "status", "is_gold"]
    list_filter = ["status", "is_gold"]
    search_fields = ["text", "external_id"]
    raw_id_fields = ["source_job"]
