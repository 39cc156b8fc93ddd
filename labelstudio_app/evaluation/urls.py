from django.urls import path

from labelstudio_app.evaluation import api, views

P = "projects/<int:project_id>/"

urlpatterns = [
    path(P + "models/", views.model_version_list, name="model-version-list"),
    path(P + "models/new/", views.model_version_create, name="model-version-create"),
    path(P + "models/<int:model_version_id>/", views.model_version_detail, name="model-version-detail"),
    path(P + "models/<int:model_version_id>/delete/", views.model_version_delete, name="model-version-delete"),
    path(P + "models/<int:model_version_id>/promote/", views.model_version_promote, name="model-version-promote"),
    path(P + "models/serving/rollback/", views.serving_rollback, name="serving-rollback"),
    path(P + "generation/", views.generation_list, name="generation-list"),
    path(P + "generation/new/", views.generation_create, name="generation-create"),
    path(P + "generation/<int:job_id>/", views.generation_detail, name="generation-detail"),
    path(P + "items/<int:item_id>/candidates/", views.item_candidates, name="item-candidates"),
]

api_urlpatterns = [
    path(P + "model-versions/", api.ModelVersionListApi.as_view(), name="api-model-version-list"),
    path(P + "model-versions/<int:model_version_id>/", api.ModelVersionDetailApi.as_view(),
         name="api-model-version-detail"),
    path(P + "model-versions/<int:model_version_id>/gate/", api.ModelVersionGateApi.as_view(),
         name="api-model-version-gate"),
    path(P + "model-versions/<int:model_version_id>/promote/", api.ModelVersionPromoteApi.as_view(),
         name="api-model-version-promote"),
    path(P + "model-versions/<int:model_version_id>/force/", api.ModelVersionForceApi.as_view(),
         name="api-model-version-force"),
    path(P + "serving/", api.ServingApi.as_view(), name="api-serving"),
    path(P + "serving/rollback/", api.ServingRollbackApi.as_view(), name="api-serving-rollback"),
    path(P + "generation-jobs/", api.GenerationJobListApi.as_view(), name="api-generation-job-list"),
    path(P + "generation-jobs/<int:job_id>/", api.GenerationJobDetailApi.as_view(), name="api-generation-job-detail"),
    path(P + "items/<int:item_id>/candidates/", api.ItemCandidatesApi.as_view(), name="api-item-candidates"),
]
