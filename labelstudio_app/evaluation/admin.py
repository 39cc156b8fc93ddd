from django.contrib import admin

from labelstudio_app.evaluation.models import OutboundEndpoint


@admin.register(OutboundEndpoint)
class OutboundEndpointAdmin(admin.ModelAdmin):
    list_display = ("name", "base_url", "api_key_env", "enabled")
    list_filter = ("enabled",)
    search_fields = ("name", "base_url")
