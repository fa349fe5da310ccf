"""Layout checks for browser tests: nothing wider than the screen, no table cut off unseen.

``layout_problems(page)`` measures the page as it is now (call it after ``goto`` and after any
``set_viewport_size``) and returns one sentence per problem:

* the document scrolls sideways (``scrollWidth > innerWidth``): the elements that stick out past
  the right edge are listed by selector, outermost first;
* a table wider than the box it sits in, where that box is not a scroll region a keyboard can
  reach (``overflow-x: auto|scroll`` *and* a ``tabindex``): its last columns are cut off, or the
  whole page scrolls, with nothing telling the reader;
* any other box that scrolls sideways without taking the focus and without links or controls
  inside to reach what is past its edge (the admin's main area grown wide by one element, say),
  with the elements that stick out of it.

``assert_fits(page)`` fails with that list. A table inside ``<div class="table-scroll"
tabindex="0" role="region" aria-label="…">`` (with ``templates/includes/table_scroll_hint.html`` before it) is
fine however wide it is: the region scrolls, takes the focus, and says so.
"""

_MEASURE = """
() => {
  const viewport = window.innerWidth;
  const slack = 1;  // sub-pixel rounding
  const problems = [];

  function selector(element) {
    const parts = [];
    let node = element;
    while (node && node.nodeType === 1 && parts.length < 4) {
      let part = node.tagName.toLowerCase();
      if (node.id) { parts.unshift(part + "#" + node.id); break; }
      const classes = Array.from(node.classList).filter((c) => !c.startsWith("w-") || parts.length === 0).slice(0, 2);
      if (classes.length) part += "." + classes.join(".");
      const parent = node.parentElement;
      if (parent) {
        const same = Array.from(parent.children).filter((c) => c.tagName === node.tagName);
        if (same.length > 1) part += ":nth-of-type(" + (same.indexOf(node) + 1) + ")";
      }
      parts.unshift(part);
      node = parent;
    }
    return parts.join(" > ");
  }

  function shown(element) {
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden") return false;
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  }

  // The nearest ancestor that clips or scrolls its content sideways (not the document itself).
  function clippingAncestor(element) {
    let node = element.parentElement;
    while (node && node !== document.body && node !== document.documentElement) {
      const overflow = getComputedStyle(node).overflowX;
      if (overflow !== "visible") return node;
      node = node.parentElement;
    }
    return null;
  }

  function isVisuallyHidden(element) {
    // Screen-reader-only text (clip / clip-path / 1px boxes) never widens what people see.
    let node = element;
    while (node && node !== document.body) {
      const style = getComputedStyle(node);
      if (style.position === "absolute" || style.position === "fixed") {
        const box = node.getBoundingClientRect();
        if ((box.width <= 1 && box.height <= 1) || style.clip !== "auto" || style.clipPath !== "none") return true;
      }
      node = node.parentElement;
    }
    return false;
  }

  const documentWidth = document.documentElement.scrollWidth;
  if (documentWidth > viewport + slack) {
    const offenders = [];
    for (const element of document.body.querySelectorAll("*")) {
      if (!shown(element) || isVisuallyHidden(element)) continue;
      const box = element.getBoundingClientRect();
      if (box.right <= viewport + slack) continue;
      if (clippingAncestor(element)) continue;
      // Only the outermost: skip an element whose parent already sticks out.
      const parent = element.parentElement;
      if (parent && parent !== document.body && parent.getBoundingClientRect().right > viewport + slack
          && !isVisuallyHidden(parent) && shown(parent)) continue;
      offenders.push(selector(element) + " (right edge at " + Math.round(box.right) + " px)");
      if (offenders.length >= 8) break;
    }
    problems.push(
      "the page is " + documentWidth + " px wide in a " + viewport + " px window; sticking out: "
      + (offenders.join("; ") || "(nothing visible: look for a wide hidden element)")
    );
  }

  const focusableScroller = (node) =>
    node.hasAttribute("tabindex") && node.tabIndex >= 0 && ["auto", "scroll"].includes(getComputedStyle(node).overflowX);

  for (const table of document.querySelectorAll("table")) {
    if (!shown(table) || isVisuallyHidden(table)) continue;
    const box = table.getBoundingClientRect();
    const container = clippingAncestor(table);
    if (container) {
      const inner = container.getBoundingClientRect();
      const visibleRight = inner.left + container.clientLeft + container.clientWidth;
      const cut = box.right > visibleRight + slack || box.left < inner.left - slack;
      if (cut && !focusableScroller(container)) {
        problems.push(
          "table " + selector(table) + " (" + Math.round(box.width) + " px) is cut off inside "
          + selector(container) + " (" + container.clientWidth + " px), which is not a focusable scroll region"
        );
      }
    } else if (box.right > viewport + slack) {
      problems.push(
        "table " + selector(table) + " runs " + Math.round(box.right - viewport)
        + " px past the window and is not inside a focusable scroll region"
      );
    }
  }

  // A box that scrolls sideways (the admin's main area, a wrapper) must take the keyboard focus,
  // or keyboard users never see what is past its edge.
  const focusable = "a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])";
  for (const element of document.body.querySelectorAll("*")) {
    if (element.matches("input, textarea, select")) continue;  // controls scroll their own text
    const overflow = getComputedStyle(element).overflowX;
    if (overflow !== "auto" && overflow !== "scroll") continue;
    if (element.scrollWidth <= element.clientWidth + slack || !shown(element)) continue;
    // Keyboard users reach what is past the edge by focusing the box or the links inside it
    // (Wagtail's breadcrumbs); a table must be in a focusable region (checked above).
    if (focusableScroller(element) || (!element.querySelector("table") && element.querySelector(focusable))) continue;
    const wide = Array.from(element.querySelectorAll("*")).filter(
      (child) => shown(child) && child.getBoundingClientRect().right > element.getBoundingClientRect().right + slack
        && !(clippingAncestor(child) !== element)
    ).slice(0, 4).map(selector);
    problems.push(
      selector(element) + " scrolls sideways (" + element.scrollWidth + " px in " + element.clientWidth
      + " px) but cannot take the keyboard focus; too wide: " + (wide.join("; ") || "(unknown)")
    );
  }
  return problems;
}
"""


def layout_problems(page) -> list[str]:
    """Sentences describing what is wider than the window or cut off, on the page as it is now."""
    return page.evaluate(_MEASURE)


def assert_fits(page) -> None:
    """Fail when the page scrolls sideways or a table is clipped outside a focusable scroll region."""
    problems = layout_problems(page)
    assert not problems, (
        f"layout problems on {page.url} at {page.viewport_size['width']} px:\n- " + "\n- ".join(problems)
    )
