from rest_framework import serializers

from labelstudio_app.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)

    class Meta:
        model = Job
        fields = ["id", "kind", "state", "project", "params", "result", "progress_done", "progress_total", "percent",
                  "message", "error", "cancel_requested", "attempts", "created_at", "started_at", "heartbeat_at",
                  "finished_at"]
        read_only_fields = fields
