"""axe-core (from the npm registry, pinned in package.json) run inside Chromium on a page: accessibility problems."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA, the level Danish and Swedish public bodies must meet (web accessibility directive).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@cache
def axe_source() -> str:
    """Return axe-core's script, installing it with npm (package-lock.json) the first time."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("axe-core is not installed and npm is missing: install Node.js and npm (apt-get install npm)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0 or not AXE.exists():
            pytest.fail(f"npm ci could not install axe-core: {done.stderr.strip()[-500:]}")
    return AXE.read_text()


def violations(page: Any) -> list[str]:
    """Run axe-core on the page as it is now; return one line per violated rule (empty: none)."""
    # evaluate() goes through the browser's debugging protocol, so the page's CSP does not stop it.
    page.evaluate(axe_source())
    found = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v =>
                `${v.id} (${v.impact}): ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", ")}`);
        }""",
        TAGS,
    )
    return [str(line) for line in found]
