from django.urls import path

from labelstudio_app.labelling import api, views

urlpatterns = [
    path("projects/<int:project_id>/label/", views.label_page, name="label-page"),
    path("projects/<int:project_id>/label/previous/", views.label_previous, name="label-previous"),
    path("projects/<int:project_id>/label/items/<int:item_id>/", views.label_submit, name="label-submit"),
    path("projects/<int:project_id>/label/items/<int:item_id>/skip/", views.label_skip, name="label-skip"),
    path("projects/<int:project_id>/label/schema/", views.schema_edit, name="label-schema"),
    path("projects/<int:project_id>/qa/", views.qa_page, name="label-qa"),
    path("projects/<int:project_id>/qa/annotations/<int:annotation_id>/", views.qa_decide, name="label-qa-decide"),
    path("projects/<int:project_id>/dashboard/", views.dashboard_page, name="label-dashboard"),
]

api_urlpatterns = [
    path("projects/<int:project_id>/schema/", api.SchemaApi.as_view(), name="api-label-schema"),
    path("projects/<int:project_id>/next/", api.NextItemApi.as_view(), name="api-label-next"),
    path("items/<int:item_id>/annotation/", api.AnnotationSubmitApi.as_view(), name="api-label-submit"),
    path("items/<int:item_id>/skip/", api.SkipApi.as_view(), name="api-label-skip"),
    path("projects/<int:project_id>/qa/next/", api.QaNextApi.as_view(), name="api-label-qa-next"),
    path("annotations/<int:annotation_id>/qa/", api.QaDecisionApi.as_view(), name="api-label-qa-decide"),
    path("projects/<int:project_id>/dashboard/", api.DashboardApi.as_view(), name="api-label-dashboard"),
]
