"""The one vocabulary of access. A user holds roles per project (Membership); Django staff are the admins
and hold every role everywhere. Each domain reads a project through `projects.selectors.project_get_for_<role>`
with these tuples, never by comparing role strings itself."""
from labelstudio_app.accounts.models import Membership

MANAGER = Membership.Role.MANAGER
ANNOTATOR = Membership.Role.ANNOTATOR
REVIEWER = Membership.Role.REVIEWER
ALL_ROLES = frozenset(Membership.Role.values)

# Who may do what: a manager may do everything in their project.
MANAGERS = (MANAGER,)
ANNOTATORS = (ANNOTATOR, MANAGER)  # label items
REVIEWERS = (REVIEWER, MANAGER)  # QA of annotations, blind review
ITEM_READERS = (MANAGER, REVIEWER)  # browse items
# Who may read what would unblind a review card: reference answers, gold flags and answers, final labels and
# imported metadata. Reviewers read items (text and context) but never these, unless they also manage.
ANSWER_KEY_READERS = (MANAGER,)


def is_admin(user) -> bool:
    """Admins are Django staff: every project, every role, and the admin-only actions."""
    return bool(user is not None and user.is_authenticated and user.is_staff)
