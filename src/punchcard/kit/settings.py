"""Runtime settings, read once from the environment (prefix ``PUNCHCARD_``)."""

from functools import lru_cache
from typing import Literal

from pydantic import AwareDatetime, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from punchcard.kit.clock import Clock, FixedClock, SystemClock


class Settings(BaseSettings):
    """Everything that differs between installations; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="PUNCHCARD_")

    database_url: str = "sqlite:///punchcard.db"
    database_pool_size: int = 10
    job_batch_size: int = 1000
    group_commit_max: int = 32
    """The most events one transaction records together (``event.group_commit``); 1 gives every event its own."""
    group_commit_writers: int = 4
    """Writer threads per worker process, each with its own transaction: while one waits for the database, another
    works."""

    max_body_bytes: int = 1_048_576
    """The largest request body accepted, in bytes; a larger one is refused (413) before it is read (``api.limits``).
    An order of the most lines allowed (1,000), each with the longest sku and category, is under half of the default."""

    outbox_poll_seconds: float = 2.0
    """How often each server process looks for outbox work that no commit of its own announced (events written by
    another process, retries falling due); 0 turns the server's dispatcher off (``punchcard jobs run`` still drains)."""
    webhook_poll_seconds: float = 2.0
    """How often each server process posts the webhook deliveries that are due; 0 turns it off there (``punchcard
    jobs run`` still sends)."""
    mail_poll_seconds: float = 10.0
    """How often each server process sends the member mails that are due; 0 turns it off there (``punchcard jobs
    run`` still sends)."""
    webhooks_allow_private: bool = False
    """Let webhooks reach loopback and private addresses: for tests and the demo, whose receivers run on 127.0.0.1.
    Off, a webhook cannot be pointed into the shop's own network."""
    push_allow_private: bool = False
    """Let members' push endpoints be on loopback and private addresses, over plain http there: for tests, whose
    stand-in push service runs on 127.0.0.1. Off (always, in production), an endpoint must be https on a public
    address: any member can register one, and the server posts to it."""

    intake_poll_seconds: float = 0.5
    """How often each server process's worker looks for accepted events (``Prefer: respond-async``, the batch
    endpoint) that no accept of its own announced; 0 leaves them to ``punchcard worker`` processes."""

    public_url: str = "http://127.0.0.1:8000"
    """Where members and staff reach this server; e-mailed links start with it."""
    secret_key: str = ""
    """Signs session cookies and sign-in links; empty means a random key per process (sessions end on restart)."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Punchcard <no-reply@localhost>"

    fixed_now: AwareDatetime | None = None
    """When set (ISO 8601 with a zone), the server's clock stands still at this moment instead of reading the real
    time: for tests that run a real server process, never for production."""

    demo_mail_catcher: bool = False
    """Serve ``/demo/mail``, the page of the demo's in-memory mail catcher; it shows everyone's sign-in links, so it is
    for ``punchcard demo`` only."""
    demo_webhook_secret: str = ""
    """Serve ``/demo/webhooks``, the demo's webhook receiver, checking signatures with this secret; ``punchcard demo``
    only (it shows the payloads it receives to anyone)."""

    log_format: Literal["auto", "json", "text"] = "auto"
    """``json``: one JSON object per line (time, level, logger, message, request_id, exception); ``text``: one line
    for a human; ``auto``: JSON when standard error is not a terminal (systemd, Docker), text when it is
    (``kit.logs``)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The least severe log lines written (any case: ``info`` is ``INFO``)."""
    metrics_token: str = ""
    """Serve Prometheus metrics at ``/metrics`` to requests with ``Authorization: Bearer <this token>``; empty (the
    default) leaves ``/metrics`` off (404). The metrics tell traffic and sales volumes, so they are never public
    (docs/decisions.md, issue 14 part 7)."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def clock(self) -> Clock:
        return FixedClock(self.fixed_now) if self.fixed_now is not None else SystemClock()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
