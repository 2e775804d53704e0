"""``GET /dashboard``: the KPI report page, static files shipped in the package (no build step).

Only the files listed in ``FILES`` are served (no path from the request reaches the file system); they
are read once at import. The page reads ``/v1/kpis`` and ``/v1/freshness`` from the same origin; a strict
Content-Security-Policy allows nothing else. The chart is uPlot (MIT, vendored, see
``app/static/dashboard/vendor/README.md``).
"""

from __future__ import annotations

import hashlib
from importlib import resources

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

router = APIRouter()

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
_NAMES = ("index.html", "dashboard.js", "dashboard.css", "vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _load() -> dict[str, tuple[bytes, str, str]]:
    root = resources.files("app") / "static" / "dashboard"
    files = {}
    for name in _NAMES:
        body = (root / name).read_bytes()
        kind = _TYPES["." + name.rsplit(".", 1)[1]]
        files[name] = (body, kind, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
    return files


FILES = _load()


def _serve(request: Request, name: str) -> Response:
    found = FILES.get(name)
    if found is None:
        return Response(b'{"error":"not_found","field":"path","reason":"no such dashboard file"}', 404,
                        media_type="application/json")  # fmt: skip
    body, kind, etag = found
    headers = {
        "ETag": etag,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CSP,
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=kind, headers=headers)


@router.get("/dashboard", summary="KPI dashboard (HTML)", include_in_schema=False)
async def page(request: Request) -> Response:
    return _serve(request, "index.html")


@router.get("/dashboard/{name:path}", include_in_schema=False)
async def asset(request: Request, name: str) -> Response:
    if not name:  # /dashboard/ -> /dashboard, so the page's relative links resolve
        return RedirectResponse("../dashboard", status_code=308)
    return _serve(request, name)
