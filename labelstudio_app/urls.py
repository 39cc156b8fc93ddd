from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from labelstudio_app.accounts import urls as accounts_urls
from labelstudio_app.audit import urls as audit_urls
from labelstudio_app.core import views as core_views
from labelstudio_app.evaluation import urls as evaluation_urls
from labelstudio_app.jobs import urls as jobs_urls
from labelstudio_app.labelling import urls as labelling_urls
from labelstudio_app.projects import urls as projects_urls
from labelstudio_app.projects import views as projects_views
from labelstudio_app.review import urls as review_urls
from labelstudio_app.training import urls as training_urls

# Each domain exposes `urlpatterns` (pages) and `api_urlpatterns` (REST, under /api/).
DOMAINS = [accounts_urls, jobs_urls, projects_urls, labelling_urls, evaluation_urls, review_urls, training_urls, audit_urls]

api_patterns = [p for domain in DOMAINS for p in getattr(domain, "api_urlpatterns", [])]

urlpatterns = [
    path("", projects_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(api_patterns)),
    path("i18n/", include("django.conf.urls.i18n")),
]
for domain in DOMAINS:
    urlpatterns += domain.urlpatterns
