"""Finding a pattern's row or rule, and turning it into requests with expected outcomes."""

import re
from dataclasses import dataclass

from tests.url_matrix.probe import LANG, route_args
from tests.url_matrix.table import ARGS, OUTSIDERS, PK, ROLES, ROWS, STAFF, WAGTAIL_RULES, Row, Rule, outcomes

ROW_BY_ROUTE = {row.route: row for row in ROWS}
OUTSIDER_LOGIN = " ".join(["LOG"] * len(OUTSIDERS))


def rule_matches(rule: Rule, route: str) -> bool:
    return route in rule.routes or any(route.startswith(prefix) for prefix in rule.prefixes)


def entry_for(route: str) -> Row | Rule | None:
    """The pattern's row; else the rule naming it; else the rule with the longest matching prefix."""
    if route in ROW_BY_ROUTE:
        return ROW_BY_ROUTE[route]
    named = [rule for rule in WAGTAIL_RULES if route in rule.routes]
    if named:
        return named[0]
    by_prefix = [
        (len(prefix), rule) for rule in WAGTAIL_RULES for prefix in rule.prefixes if route.startswith(prefix)
    ]
    return max(by_prefix, key=lambda pair: pair[0])[1] if by_prefix else None


def ambiguous(routes) -> list[str]:
    """Patterns named explicitly twice (by two rules, or by a row and a rule)."""
    result = []
    for route in routes:
        named = sum(route in rule.routes for rule in WAGTAIL_RULES) + (route in ROW_BY_ROUTE)
        if named > 1:
            result.append(route)
    return result


def lookup(world: dict, spec):
    """``"award.pk"`` → world["award"].pk; ``"=text"`` and non-strings are literal values."""
    if not isinstance(spec, str):
        return spec
    if spec.startswith("="):
        return spec[1:]
    key, *attributes = spec.split(".")
    value = world[key]
    for attribute in attributes:
        value = value[attribute] if isinstance(value, dict) else getattr(value, attribute)
    return value


CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def build_url(route: str, args: dict, world: dict, explicit: str = "", query: str = "") -> str:
    if explicit:
        url = explicit.format(**world)
    else:
        if "(?" in route or "(" in route.replace("(?P", ""):
            raise AssertionError(f"{route} is a regular expression: give its row a url")
        path = route.replace(LANG, "en/").replace("^", "").replace("$", "")
        values = {}
        for name in route_args(path):
            if name in args:
                spec = args[name]
            elif name == "pk":
                prefixes = [prefix for prefix in PK if route.startswith(prefix)]
                spec = PK[max(prefixes, key=len)] if prefixes else ARGS["pk"]
            else:
                spec = ARGS[name]
            values[name] = lookup(world, spec)
        url = "/" + CONVERTER.sub(lambda match: str(values[match.group(1)]), path)
    return url + query.format(**world)


@dataclass
class Request:
    method: str
    url: str
    data: dict
    expected: dict
    fresh_cache: bool = False


def requests_for(entry, route: str, world: dict) -> list[Request]:
    data = {
        key: value.format(**world) if isinstance(value, str) else value for key, value in entry.data.items()
    }
    if isinstance(entry, Row):
        url = build_url(route, entry.args, world, entry.url)
        result = []
        for method, text in (("GET", entry.get), ("POST", entry.post)):
            if text is not None:
                expected = dict(zip(ROLES, outcomes(text), strict=True))
                result.append(Request(method, url, data, expected, entry.fresh_cache))
        return result
    url = build_url(route, entry.args, world, query=entry.query)
    result = []
    for method, text in (("GET", entry.staff), ("POST", entry.post)):
        if text is not None:
            expected = dict(zip(ROLES, outcomes(f"{OUTSIDER_LOGIN} {text}"), strict=True))
            result.append(Request(method, url, data, expected))
    assert len(STAFF) + len(OUTSIDERS) == len(ROLES)
    return result
