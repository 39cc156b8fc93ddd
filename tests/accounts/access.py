from tests.access_rules import EVERYONE, Rule
from tests.factories import PASSWORD

RULES = {
    "login": Rule(allowed=EVERYONE, public=True),
    "logout": Rule(allowed=EVERYONE, public=True, method="post", data=lambda w: {}),
    "api-token": Rule(allowed=EVERYONE, public=True, method="post", api=True,
                      data=lambda w: {"username": "ann_annotator", "password": PASSWORD}),
    # Every logged-in user rotates or revokes their own token; there is no one else's to name.
    "api-token-rotate": Rule(allowed=EVERYONE, method="post", api=True, data=lambda w: {}),
    "api-token-revoke": Rule(allowed=EVERYONE, method="post", api=True, data=lambda w: {}),
}
