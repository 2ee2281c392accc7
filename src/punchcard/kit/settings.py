"""Runtime settings, read once from the environment (prefix ``PUNCHCARD_``)."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between installations; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="PUNCHCARD_")

    database_url: str = "sqlite:///punchcard.db"
    database_pool_size: int = 10
    job_batch_size: int = 1000


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
