"""What the endpoints that hand out a pass share: the portal's download and Apple's web service answer alike."""

from __future__ import annotations

from fastapi import Response

from punchcard.passes.domain import http_date
from punchcard.passes.package import MEDIA_TYPE
from punchcard.passes.service import Download


def pass_response(download: Download) -> Response:
    """A pass as Wallet and browsers take it: its media type, when it last changed, a file name, and no caching
    (it is one member's card)."""
    return Response(
        download.content,
        media_type=MEDIA_TYPE,
        headers={
            "Last-Modified": http_date(download.modified_at),
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
        },
    )
