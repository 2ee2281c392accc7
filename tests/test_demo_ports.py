"""Two demos (or a demo beside a server) on one machine: a taken HTTP port stops the command with one line before it
builds anything; a taken mail port is swapped for a free one, said so, and used."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from punchcard.cli.main import app as cli
from punchcard.kit import ports

PUNCHCARD = Path(sys.executable).with_name("punchcard")


@contextmanager
def taken_port() -> Iterator[int]:
    """A port something listens on for the duration, as another program's would."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("command", [["demo"], ["serve"]])
def test_a_port_in_use_stops_the_command_with_one_line_before_anything_starts(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    database = tmp_path / "demo.db"
    with taken_port() as port:
        extra = ["--database", str(database)] if command == ["demo"] else []
        outcome = CliRunner().invoke(cli, [*command, "--port", str(port), *extra])
    assert outcome.exit_code == 2
    assert outcome.output.strip() == f"error: 127.0.0.1:{port} is in use; choose another port with --port N"
    assert not database.exists()
    assert not (tmp_path / "serve.db").exists()


def test_a_demo_whose_mail_port_is_taken_catches_mail_on_a_free_one_and_says_which(tmp_path: Path) -> None:
    # Given the mail port a first demo would hold
    with taken_port() as mail_port:
        # When a second demo starts with that mail port
        port = ports.free_port("127.0.0.1")
        log = tmp_path / "demo.log"
        with log.open("wb") as output:
            arguments = ["demo", "--port", str(port), "--mail-port", str(mail_port), "--database", "demo.db"]
            process = subprocess.Popen(
                [str(PUNCHCARD), *arguments],
                cwd=tmp_path,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={key: value for key, value in os.environ.items() if not key.startswith("PUNCHCARD_")},
            )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 240
            while not _healthy(base):
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
            # Then it says where its catcher listens instead, and mail sent there is on the catcher's page
            printed = log.read_text()
            line = next(line for line in printed.splitlines() if line.startswith(f"Mail port {mail_port} is in use"))
            catcher_port = int(line.rsplit(" listens on ", 1)[1].split()[0])
            assert catcher_port != mail_port
            assert f"(SMTP on 127.0.0.1:{catcher_port})" in printed
            with smtplib.SMTP("127.0.0.1", catcher_port, timeout=10) as smtp:
                smtp.sendmail(
                    "shop@example.com", ["kai@example.com"], b"Subject: Hello Kai\r\n\r\nhttps://x.test/a\r\n"
                )
            page = httpx.get(f"{base}/demo/mail", timeout=10)
            assert page.status_code == 200
            assert "Hello Kai" in page.text
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
