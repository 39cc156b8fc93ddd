from rest_framework import serializers

from labelstudio_app.jobs.models import Job
from labelstudio_app.jobs.selectors import job_params_public


class JobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    params = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "kind", "state", "project", "params", "result", "progress_done", "progress_total", "percent",
                  "message", "error", "cancel_requested", "attempts", "created_at", "started_at", "heartbeat_at",
                  "finished_at"]
        read_only_fields = fields

    def get_params(self, job: Job) -> dict:
        return job_params_public(params=job.params)
