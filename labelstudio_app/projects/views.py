from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from labelstudio_app.core.http import HtmxHttpRequest
from labelstudio_app.projects.selectors import project_get_for_user, project_roles


@login_required
@require_GET
def project_detail(request: HtmxHttpRequest, project_id: int) -> HttpResponse:
    project = project_get_for_user(user=request.user, project_id=project_id)
    roles = project_roles(user=request.user, project_id=project.pk)
    return render(request, "projects/detail.html", {"project": project, "roles": roles})
