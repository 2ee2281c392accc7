"""The console's static files (CSS, JavaScript), served from the package to anyone: no sign-in needed."""

from __future__ import annotations

from fastapi.responses import FileResponse, Response

from punchcard.admin import render
from punchcard.admin.routes.common import console_router
from punchcard.kit.errors import NotFound

router = console_router()


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in render.STATIC_FILES:
        raise NotFound("no such file")
    return FileResponse(render.STATIC / name, headers={"Cache-Control": "public, max-age=31536000, immutable"})
