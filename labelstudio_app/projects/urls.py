from django.urls import path

from labelstudio_app.projects import api, views

P = "projects/<int:project_id>/"

urlpatterns = [
    path("projects/new/", views.project_create, name="project-create"),
    path(P, views.project_detail, name="project-detail"),
    path(P + "settings/", views.project_settings, name="project-settings"),
    path(P + "members/", views.project_members, name="project-members"),
    path(P + "members/<int:membership_id>/remove/", views.project_member_remove, name="project-member-remove"),
    path(P + "items/", views.item_list, name="item-list"),
    path(P + "items/<int:item_id>/", views.item_detail, name="item-detail"),
    path(P + "import/", views.import_page, name="import-page"),
    path(P + "import/preview/", views.import_preview, name="import-preview"),
    path(P + "import/start/", views.import_start, name="import-start"),
    path(P + "import/remap/", views.import_remap, name="import-remap"),
    path(P + "export/", views.export_page, name="export-page"),
    path(P + "export/start/", views.export_start, name="export-start"),
    path(P + "export/<int:job_id>/download/", views.export_download, name="export-download"),
]

api_urlpatterns = [
    path("projects/", api.ProjectListApi.as_view(), name="api-project-list"),
    path(P, api.ProjectDetailApi.as_view(), name="api-project-detail"),
    path(P + "counts/", api.ProjectCountsApi.as_view(), name="api-project-counts"),
    path(P + "members/", api.MemberListApi.as_view(), name="api-project-members"),
    path(P + "members/<int:membership_id>/", api.MemberDetailApi.as_view(), name="api-project-member-detail"),
    path(P + "items/", api.ItemListApi.as_view(), name="api-item-list"),
    path(P + "items/<int:item_id>/", api.ItemDetailApi.as_view(), name="api-item-detail"),
    path(P + "imports/", api.ImportCreateApi.as_view(), name="api-import-create"),
    path(P + "imports/preview/", api.ImportPreviewApi.as_view(), name="api-import-preview"),
    path(P + "imports/bulk/", api.ImportBulkApi.as_view(), name="api-import-bulk"),
    path(P + "exports/", api.ExportCreateApi.as_view(), name="api-export-create"),
    path(P + "exports/stream/", api.ExportStreamApi.as_view(), name="api-export-stream"),
    path(P + "exports/<int:job_id>/download/", api.ExportDownloadApi.as_view(), name="api-export-download"),
]
