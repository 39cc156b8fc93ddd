from tests.access_rules import EVERYONE, Rule
from tests.factories import PASSWORD

RULES = {
    "login": Rule(allowed=EVERYONE, public=True),
    "logout": Rule(allowed=EVERYONE, public=True, method="post", data=lambda w: {}),
    "api-token": Rule(allowed=EVERYONE, public=True, method="post", api=True,
                      data=lambda w: {"username": "ann_annotator", "password": PASSWORD}),
}
