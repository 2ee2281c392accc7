"""The portal as an installable web app: its manifest (the program's name and colour, our icons) and its service
worker, which keeps the member's home page and card readable offline (``static/service-worker.js``).

The worker's scope is ``/portal/{slug}``, the home page included (a scope is a prefix of paths; a program whose slug
begins with this one's would pass through it untouched, since it keeps only this portal's pages).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from punchcard.portal.rendering import STATIC, asset
from punchcard.portal.routes.common import VisitorDep, portal_router

router = portal_router()

WORKER = (Path(STATIC) / "service-worker.js").read_text()


@router.get("/manifest.webmanifest")
def manifest(visitor: VisitorDep) -> Response:
    program = visitor.program
    name = program.name.in_language(visitor.ui.language)
    body = {
        "name": name,
        "short_name": name if len(name) <= 12 else name.split()[0],
        "lang": visitor.ui.language,
        "start_url": visitor.url("?source=app"),
        "scope": visitor.url(),
        "display": "standalone",
        "background_color": "#f6f3ee",
        "theme_color": program.email.colour,
        "icons": [
            {"src": asset("icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any maskable"},
            {"src": asset("icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
        ],
    }
    return JSONResponse(body, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


@router.get("/service-worker.js")
def service_worker(request: Request, visitor: VisitorDep) -> Response:
    script = WORKER.replace("__SCOPE__", visitor.url()).replace(
        "__ASSETS__", asset("portal.css").split("?")[0].rsplit("/", 1)[0]
    )
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": visitor.url()},
    )
