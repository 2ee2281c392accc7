"""The demo's wallet passes: the demo program gets stand-in Apple and Google credentials made on the spot
(``passes.stand_in``), so its portal's card page offers both wallets and every path behind them runs. Apple's and
Google's own services would refuse these credentials; docs/wallet-passes.md tells how to get real ones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.passes import service, signing, stand_in


def configure(session: Session, program_id: int, now: datetime) -> None:
    """Give the program a stand-in Pass Type ID certificate (issued by a stand-in WWDR) and service account."""
    files = stand_in.apple_files(now)
    apple = signing.apple_credentials(
        stand_in.PASS_TYPE_IDENTIFIER, stand_in.TEAM_IDENTIFIER, files.certificate, files.key, None, files.wwdr
    )
    service.set_apple(session, program_id, apple, now)
    google = signing.google_credentials(stand_in.ISSUER_ID, stand_in.service_account())
    service.set_google(session, program_id, google, now)
