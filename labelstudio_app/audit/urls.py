from django.urls import path

from labelstudio_app.audit import api, views

urlpatterns = [
    path("projects/<int:project_id>/audit/", views.audit_list, name="audit-list"),
    path("projects/<int:project_id>/audit/new/", views.audit_create, name="audit-create"),
    path("projects/<int:project_id>/audit/compare/", views.audit_compare, name="audit-compare"),
    path("projects/<int:project_id>/audit/<int:run_id>/", views.audit_detail, name="audit-detail"),
    path("projects/<int:project_id>/audit/<int:run_id>/relabel/", views.audit_relabel, name="audit-relabel"),
    path("projects/<int:project_id>/audit/<int:run_id>/export.<str:fmt>", views.audit_export, name="audit-export"),
]

api_urlpatterns = [
    path("projects/<int:project_id>/audit/runs/", api.AuditRunListApi.as_view(), name="api-audit-run-list"),
    path("audit/runs/<int:run_id>/", api.AuditRunDetailApi.as_view(), name="api-audit-run-detail"),
    path("audit/runs/<int:run_id>/metrics/", api.AuditRunMetricsApi.as_view(), name="api-audit-run-metrics"),
    path("audit/runs/<int:run_id>/disagreements/", api.AuditRunDisagreementsApi.as_view(),
         name="api-audit-run-disagreements"),
    path("audit/runs/<int:run_id>/predictions/", api.AuditRunPredictionsApi.as_view(),
         name="api-audit-run-predictions"),
    path("audit/runs/<int:run_id>/relabel/", api.AuditRunRelabelApi.as_view(), name="api-audit-run-relabel"),
]
