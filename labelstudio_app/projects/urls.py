from django.urls import path

from labelstudio_app.projects import views

urlpatterns = [
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
]

api_urlpatterns = []
