"""One settings object built from the environment at the edge (CLI, app, tests) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sites.errors import InvalidInput
from sites.i18n import parse_language

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Settings:
    """Where the register keeps its files and which database it talks to.

    Attributes
    ----------
    home : Path
        Checkout (or deployment) folder; the embedded cluster lives in ``home/.local/pg``.
    database_url : str or None
        An existing PostgreSQL/PostGIS server to use instead of the embedded one.
    app_port : int
        Port the Streamlit app listens on.
    files_root : Path or None
        Where attachments are stored (``SITES_FILES_DIR``); None means ``home/.local/files``.
    map_cluster_from : int
        From how many sites the map groups markers into clusters (``SITES_MAP_CLUSTER_FROM``).
    language : str
        The app's language until the reader chooses another (``SITES_LANG``: kk, ru or en; default ru, the
        language most of the register's readers work in; Kazakh and English are one click away).
    session_minutes : int
        An app session signs out after this many minutes without an action (``SITES_SESSION_MINUTES``, 60).
    oidc_claim : str
        With single sign-on (an ``[auth]`` section in ``.streamlit/secrets.toml``), the identity's claim that must
        equal a register user's email (``SITES_OIDC_CLAIM``, default ``email``); see docs/operations.md.
    """

    home: Path
    database_url: str | None
    app_port: int
    files_root: Path | None = None
    map_cluster_from: int = 2000
    language: str = "ru"
    session_minutes: int = 60
    oidc_claim: str = "email"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        home = Path(env.get("SITES_HOME") or PROJECT_ROOT).resolve()
        files = env.get("SITES_FILES_DIR")
        return cls(home=home, database_url=env.get("DATABASE_URL") or None, app_port=_port(env.get("PORT", "8501")),
                   files_root=Path(files).resolve() if files else None,
                   map_cluster_from=_count("SITES_MAP_CLUSTER_FROM", env.get("SITES_MAP_CLUSTER_FROM", "2000")),
                   language=parse_language(env.get("SITES_LANG") or "ru"),
                   session_minutes=_minutes(env.get("SITES_SESSION_MINUTES") or "60"),
                   oidc_claim=(env.get("SITES_OIDC_CLAIM") or "email").strip())

    @property
    def cluster_dir(self) -> Path:
        return self.home / ".local" / "pg"

    @property
    def files_dir(self) -> Path:
        """Folder of stored attachments and their thumbnails."""
        return self.files_root or self.home / ".local" / "files"

    @property
    def embedded(self) -> bool:
        return self.database_url is None


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InvalidInput("PORT", text, "a TCP port number between 1 and 65535")
    return int(text)


def _minutes(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 24 * 60:
        raise InvalidInput("SITES_SESSION_MINUTES", text, "a whole number of minutes from 1 to 1440")
    return int(text)


def _count(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput(name, text, "a whole number of sites, 1 or more")
    return int(text)
