from django import template

from labelstudio_app.projects.navigation import project_tabs

register = template.Library()


@register.inclusion_tag("projects/_tabs_nav.html", takes_context=True)
def project_nav(context, project):
    match = getattr(context.get("request"), "resolver_match", None)
    return {"groups": project_tabs(project_id=project.pk, roles=context.get("roles") or (),
                                   url_name=match.url_name if match else "")}
