"""Accessibility checks the browser tests share (issue 16, WCAG 2.1 AA / EN 301 549).

- ``audit(page, axe_path)`` injects axe-core (the npm package pinned in ``tests/e2e/axe/``,
  installed there by ``npm ci``; ``.ci/run`` does it) and fails with one readable line per
  violation and element: the rule, the element, what the rule asks.
- ``border_contrasts(page, selector)``: the contrast of each element's border against the
  colour behind it (WCAG 1.4.11 asks 3:1 of what identifies a control).
- ``wider_than_viewport(page)``: how far the page scrolls sideways (a phone's 390 px).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.peers.tools import missing

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The success criteria EN 301 549 (clause 9) takes from WCAG 2.1, levels A and AA."""


def axe_script() -> Path:
    """axe.min.js, or skip (locally) / fail (in CI) naming how to install it."""
    if not AXE.is_file():
        missing("axe-core is not installed (cd tests/e2e/axe && npm ci; see .ci/run)")
    return AXE


def violations(page: Page, axe: Path, context: str = "document") -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on ``page`` (within ``context``, a JS
    expression), one line each: rule id, impact, the element, what the rule asks."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe))
    result: dict[str, Any] = page.evaluate(
        """async ([context, tags]) => {
          const root = context === "document" ? document : document.querySelector(context);
          const found = await axe.run(root, { runOnly: { type: "tag", values: tags } });
          return { violations: found.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
          })) };
        }""",
        [context, TAGS],
    )
    lines = []
    for violation in result["violations"]:
        for node in violation["nodes"]:
            summary = " ".join(str(node["summary"] or "").split())
            lines.append(
                f"{violation['id']} ({violation['impact']}) at {node['target']}: "
                f"{violation['help']}. {summary}"
            )
    return lines


def audit(page: Page, axe: Path, where: str, context: str = "document") -> None:
    """Fail with every violation listed when axe finds any."""
    found = violations(page, axe, context)
    assert not found, f"axe-core on {where} ({page.url}):\n  " + "\n  ".join(found)


def wider_than_viewport(page: Page) -> int:
    """Pixels the document is wider than the window (0 when nothing scrolls sideways)."""
    width: int = page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )
    return width


CONTRAST_JS = """
(selector) => {
  const channel = (c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const rgba = (text) => {
    const m = text.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const over = (top, below) => ({
    r: top.r * top.a + below.r * (1 - top.a), g: top.g * top.a + below.g * (1 - top.a),
    b: top.b * top.a + below.b * (1 - top.a), a: 1,
  });
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const ratio = (x, y) => {
    const [a, b] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (a + 0.05) / (b + 0.05);
  };
  // The colour behind an element: its ancestors' backgrounds laid over white.
  const behind = (element) => {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) layers.push(c);
      if (c && c.a === 1) break;
    }
    let colour = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  return [...document.querySelectorAll(selector)]
    .filter((e) => e.getClientRects().length > 0)
    .map((e) => {
      const style = getComputedStyle(e);
      const border = rgba(style.borderTopColor);
      const outside = behind(e.parentElement);
      const inside = behind(e);
      const shown = over(border, outside);
      return {
        element: e.id ? `#${e.id}` : `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}`,
        width: parseFloat(style.borderTopWidth),
        outside: Math.round(ratio(shown, outside) * 100) / 100,
        inside: Math.round(ratio(shown, inside) * 100) / 100,
      };
    });
}
"""


def border_contrasts(page: Page, selector: str) -> list[dict[str, Any]]:
    """Each visible element's border: its contrast with what is outside and inside it."""
    found: list[dict[str, Any]] = page.evaluate(CONTRAST_JS, selector)
    return found


def fill_contrasts(page: Page, selector: str) -> list[dict[str, Any]]:
    """Each visible element's own background against the background around it (a switch's
    track, whose colour is what shows the control)."""
    found: list[dict[str, Any]] = page.evaluate(
        CONTRAST_JS.replace("style.borderTopColor", "style.backgroundColor"), selector
    )
    return found
