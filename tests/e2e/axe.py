"""Accessibility checks with axe-core (shipped inside axe-playwright-python, no download).

Every browser journey calls ``assert_accessible(page)`` on each page it visits::

    from tests.e2e.axe import assert_accessible

    page.goto(live_server.url + "/en/")
    assert_accessible(page)
"""

from axe_playwright_python.sync_playwright import Axe

BLOCKING_IMPACTS = ("serious", "critical")

_axe = Axe()


def format_violations(violations: list[dict]) -> str:
    """One paragraph per rule: impact, rule id, what is wrong, where, and why (axe's own messages)."""
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation.get('impact')}] {violation['id']}: {violation['help']}\n    {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = ", ".join(str(part) for part in node["target"])
            html = " ".join(node.get("html", "").split())
            lines.append(f"    - {target}\n      {html[:200]}")
            for summary_line in node.get("failureSummary", "").splitlines():
                lines.append(f"      {summary_line.strip()}")
    return "\n".join(lines)


def axe_violations(page, *, context=None) -> list[dict]:
    """All axe violations on the page as it is now (all non-experimental rules)."""
    return _axe.run(page, context=context).response["violations"]


def assert_accessible(page, *, impacts=BLOCKING_IMPACTS, context=None, ignore=()) -> list[dict]:
    """Fail when axe finds a violation of one of ``impacts`` ("serious", "critical" by default).

    ``ignore`` takes rule ids to skip, each with a reason in the caller's comment. Returns the
    violations of lesser impact so a test can look at them; they are printed, not failed on.
    """
    violations = [v for v in axe_violations(page, context=context) if v["id"] not in ignore]
    blocking = [v for v in violations if v.get("impact") in impacts]
    others = [v for v in violations if v.get("impact") not in impacts]
    if others:
        print(f"\naxe on {page.url}: {len(others)} minor/moderate finding(s)\n{format_violations(others)}")
    assert not blocking, (
        f"axe found {len(blocking)} serious/critical accessibility problem(s) on {page.url}:\n"
        + format_violations(blocking)
    )
    return others
