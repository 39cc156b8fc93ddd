"""A project's tabs, grouped by the loop's stages, with the current page marked.

Each tab: its label, the URL name it opens, the roles that see it, and the URL-name prefixes of the pages that
belong to it (so a training run's page marks "Training"). URL names are strings, so this module imports no domain.
"""
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from labelstudio_app.accounts import roles as R

STAGES = [
    (_("Overview"), [(_("Overview"), "project-detail", None, ("project-detail",))]),
    (_("Data"), [(_("Items"), "item-list", R.ITEM_READERS, ("item-",)),
                 (_("Import"), "import-page", R.MANAGERS, ("import-",)),
                 (_("Export"), "export-page", R.MANAGERS, ("export-",))]),
    (_("Labelling"), [(_("Label"), "label-page", R.ANNOTATORS, ("label-page", "label-previous", "label-skip",
                                                                        "label-submit")),
                      (_("QA"), "label-qa", R.REVIEWERS, ("label-qa",)),
                      (_("Dashboard"), "label-dashboard", R.MANAGERS, ("label-dashboard",)),
                      (_("Schema"), "label-schema", R.MANAGERS, ("label-schema",))]),
    (_("Models and generation"), [(_("Models"), "model-version-list", R.MANAGERS, ("model-version-",)),
                                  (_("Generation"), "generation-list", R.MANAGERS, ("generation-",))]),
    (_("Review"), [(_("Review"), "review-next", R.REVIEWERS, ("review-next", "review-skip", "review-submit")),
                   (_("Rounds"), "round-list", R.MANAGERS, ("round-",)),
                   (_("Statistics"), "review-stats", R.MANAGERS, ("review-stats",))]),
    (_("Training"), [(_("Snapshots"), "training-snapshot-list", R.MANAGERS, ("training-snapshot-",)),
                     (_("Training runs"), "training-list", R.MANAGERS, ("training-list", "training-create",
                                                                         "training-detail", "training-cancel"))]),
    (_("Audit"), [(_("Audit"), "audit-list", R.MANAGERS, ("audit-",))]),
    (_("Settings"), [(_("Members"), "project-members", R.MANAGERS, ("project-member",)),
                     (_("Settings"), "project-settings", R.MANAGERS, ("project-settings",))]),
]


def project_tabs(*, project_id: int, roles, url_name: str) -> list[dict]:
    """The stages the user's roles see, each with its tabs; exactly the current page's tab is `active`."""
    groups = []
    for stage, tabs in STAGES:
        shown = [{"label": label, "url": reverse(name, kwargs={"project_id": project_id}),
                  "active": url_name.startswith(prefixes)}
                 for label, name, who, prefixes in tabs if who is None or set(who) & set(roles or ())]
        if shown:
            groups.append({"stage": stage, "tabs": shown, "active": any(t["active"] for t in shown)})
    return groups
