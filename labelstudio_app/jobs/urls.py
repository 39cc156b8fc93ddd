from django.urls import path

from labelstudio_app.jobs import api, views

urlpatterns = [
    path("jobs/", views.job_list, name="job-list"),
    path("jobs/selftest/", views.job_selftest, name="job-selftest"),
    path("jobs/<int:job_id>/", views.job_detail, name="job-detail"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job-cancel"),
]

api_urlpatterns = [
    path("jobs/", api.JobListApi.as_view(), name="api-job-list"),
    path("jobs/<int:job_id>/", api.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<int:job_id>/cancel/", api.JobCancelApi.as_view(), name="api-job-cancel"),
]
