from django.urls import path

from labelstudio_app.training import api, views

P = "projects/<int:project_id>/training/"
urlpatterns = [
    path(P, views.training_list, name="training-list"),
    path(P + "new/", views.training_create, name="training-create"),
    path(P + "<int:run_id>/", views.training_detail, name="training-detail"),
    path(P + "<int:run_id>/cancel/", views.training_cancel, name="training-cancel"),
    path(P + "snapshots/", views.snapshot_list, name="training-snapshot-list"),
    path(P + "snapshots/new/", views.snapshot_create, name="training-snapshot-create"),
    path(P + "snapshots/<int:snapshot_id>/", views.snapshot_detail, name="training-snapshot-detail"),
    path(P + "snapshots/<int:snapshot_id>/download/", views.snapshot_download, name="training-snapshot-download"),
]

A = "projects/<int:project_id>/"
api_urlpatterns = [
    path("training/hyperparams/", api.TrainingHyperparamsApi.as_view(), name="api-training-hyperparams"),
    path(A + "snapshots/", api.SnapshotListApi.as_view(), name="api-snapshot-list"),
    path(A + "snapshots/<int:snapshot_id>/", api.SnapshotDetailApi.as_view(), name="api-snapshot-detail"),
    path(A + "snapshots/<int:snapshot_id>/download/", api.SnapshotDownloadApi.as_view(),
         name="api-snapshot-download"),
    path(A + "training-runs/", api.TrainingRunListApi.as_view(), name="api-training-run-list"),
    path(A + "training-runs/<int:run_id>/", api.TrainingRunDetailApi.as_view(), name="api-training-run-detail"),
    path(A + "training-runs/<int:run_id>/cancel/", api.TrainingRunCancelApi.as_view(),
         name="api-training-run-cancel"),
]
