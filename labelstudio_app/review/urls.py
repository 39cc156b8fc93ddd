from django.urls import path

from labelstudio_app.review import api, views

P = "projects/<int:project_id>/"

urlpatterns = [
    path(P + "review/", views.review_next, name="review-next"),
    path(P + "review/stats/", views.review_stats, name="review-stats"),
    path(P + "review/<str:public_id>/", views.review_submit, name="review-submit"),
    path(P + "review/<str:public_id>/skip/", views.review_skip, name="review-skip"),
    path(P + "rounds/", views.round_list, name="round-list"),
    path(P + "rounds/new/", views.round_create, name="round-create"),
    path(P + "rounds/<int:round_id>/", views.round_detail, name="round-detail"),
    path(P + "rounds/<int:round_id>/status/", views.round_status, name="round-status"),
    path(P + "rounds/<int:round_id>/export.jsonl", views.round_export, name="round-export"),
    path(P + "rounds/<int:round_id>/export.parquet", views.round_export_file, {"container": "parquet"},
         name="round-export-parquet"),
    path(P + "rounds/<int:round_id>/export.hf.zip", views.round_export_file, {"container": "hf"},
         name="round-export-hf"),
    path(P + "rounds/<int:round_id>/comparisons/<int:comparison_id>/flag/", views.comparison_flag,
         name="round-comparison-flag"),
]

api_urlpatterns = [
    path(P + "rounds/", api.RoundListApi.as_view(), name="api-round-list"),
    path(P + "rounds/<int:round_id>/", api.RoundDetailApi.as_view(), name="api-round-detail"),
    path(P + "rounds/<int:round_id>/stats/", api.RoundStatsApi.as_view(), name="api-round-stats"),
    path(P + "rounds/<int:round_id>/export.jsonl", api.RoundExportApi.as_view(), name="api-round-export"),
    path(P + "rounds/<int:round_id>/export.parquet", api.RoundExportFileApi.as_view(), {"container": "parquet"},
         name="api-round-export-parquet"),
    path(P + "rounds/<int:round_id>/export.hf.zip", api.RoundExportFileApi.as_view(), {"container": "hf"},
         name="api-round-export-hf"),
    path(P + "rounds/<int:round_id>/flag/", api.ComparisonFlagApi.as_view(), name="api-round-flag"),
    path(P + "review/stats/", api.ProjectReviewStatsApi.as_view(), name="api-review-stats"),
    path(P + "review/next/", api.ReviewNextApi.as_view(), name="api-review-next"),
    path(P + "review/<str:public_id>/", api.ReviewSubmitApi.as_view(), name="api-review-submit"),
]
