"""The dashboard's shipped files: every file the page loads is served, the vendored chart library is the
pinned release with its licence, and nothing is loaded from another origin."""

import hashlib
import re
from importlib import resources

from app.dashboard import FILES

ROOT = resources.files("app") / "static" / "dashboard"
UPLOT_SHA256 = {
    "vendor/uPlot.iife.min.js": "19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f",
    "vendor/uPlot.min.css": "df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04",
}


def test_the_page_loads_only_files_that_are_served_from_this_origin():
    html = FILES["index.html"][0].decode()
    # What the page loads (scripts, styles); the one outside link is the attribution DB-IP's licence asks for.
    anchors = re.findall(r'<a href="([^"]+)"', html)
    assert anchors == ["https://db-ip.com"]
    linked = re.findall(r'(?:src|href)="([^"]+)"', re.sub(r'<a href="[^"]+"', "<a", html))
    assert linked and all(link.startswith("dashboard/") for link in linked)
    assert {link.removeprefix("dashboard/") for link in linked} <= set(FILES)
    for name in ("dashboard.js", "dashboard.css"):
        assert not re.search(r"https?://", FILES[name][0].decode()), name


def test_uplot_is_the_pinned_release_with_its_licence():
    for name, digest in UPLOT_SHA256.items():
        assert hashlib.sha256(FILES[name][0]).hexdigest() == digest
    assert FILES["vendor/uPlot.iife.min.js"][0].startswith(b"/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    assert "MIT License" in (ROOT / "vendor" / "uPlot.LICENSE").read_text()
    assert "1.6.32" in (ROOT / "vendor" / "README.md").read_text()


def test_the_page_reads_the_report_endpoints_by_relative_url():
    js = FILES["dashboard.js"][0].decode()
    assert '"v1/kpis?"' in js and '"v1/freshness"' in js
