from tests.access_rules import EVERYONE, Rule

RULES = {
    "home": Rule(allowed=EVERYONE),
    "healthz": Rule(allowed=EVERYONE, public=True),
    "favicon": Rule(allowed=EVERYONE, public=True, ok=(302,)),
    "api-schema": Rule(allowed=EVERYONE, api=True),
    "api-docs": Rule(allowed=EVERYONE, api=True),
    "set_language": Rule(allowed=EVERYONE, public=True, method="post", data=lambda w: {"language": "zh-hans"}),
}
