"""The embedded PostgreSQL + PostGIS cluster kept in a git-ignored folder of the checkout."""

from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sites.errors import SitesError

DATABASE = "sites"
APP_ROLE = "sites"
PORT_RANGE = (55000, 59000)


class ClusterError(SitesError):
    """The embedded cluster could not be set up, started or stopped."""


@dataclass(frozen=True)
class Cluster:
    """A private cluster: data in ``root/data``, socket in ``root/sock``, its port and password in files."""

    root: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    # ---- public operations -------------------------------------------------------------------
    def up(self) -> str:
        """Initialise (first time), start (when stopped) and prepare the database; return its URL."""
        if not (self.data_dir / "PG_VERSION").exists():
            self._init()
        if not self.running():
            self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file))
        self._ensure_database()
        return self.url()

    def down(self) -> bool:
        """Stop the cluster if it runs; return whether it was running. Data stays."""
        if not self.running():
            return False
        self._pg_ctl("stop", "-w", "-m", "fast")
        return True

    def running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = subprocess.run(
            self._as_owner([str(bin_dir() / "pg_ctl"), "status", "-D", str(self.data_dir)]),
            capture_output=True, text=True,
        )
        return result.returncode == 0

    def status(self) -> str:
        if not (self.data_dir / "PG_VERSION").exists():
            return f"not initialised (would live in {self.data_dir})"
        state = "running" if self.running() else "stopped"
        return f"{state}: data {self.data_dir}, port {self.port()}, socket {self.socket_dir}"

    def url(self, database: str = DATABASE) -> str:
        """libpq URL with the app role's password over TCP on localhost: psql, GDAL and QGIS open it as is."""
        return f"postgresql://{APP_ROLE}:{quote(self.password(), safe='')}@127.0.0.1:{self.port()}/{database}"

    def admin_url(self, database: str = "postgres") -> str:
        """Superuser URL over the private socket (trust for the cluster's owner only)."""
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://postgres@/{database}?host={host}&port={self.port()}"

    def port(self) -> int:
        path = self.root / "port"
        if path.exists():
            return int(path.read_text().strip())
        port = _free_port(str(self.root))
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{port}\n")
        return port

    def password(self) -> str:
        path = self.root / "password"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(18) + "\n")
            path.chmod(0o600)
        return path.read_text().strip()

    # ---- helpers -----------------------------------------------------------------------------
    def _init(self) -> None:
        socket_path = self.socket_dir / f".s.PGSQL.{self.port()}"
        if len(str(socket_path)) > 100:
            raise ClusterError(
                f"socket path {socket_path} is longer than 100 characters; clone the project to a shorter path"
            )
        for folder in (self.data_dir, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(folder, "postgres", "postgres")
                folder.chmod(0o700)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self._check_postgres_can_reach()
        self.password()
        self._run([
            str(bin_dir() / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "-E", "UTF8",
            "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
        ])
        self._write_config()

    def _write_config(self) -> None:
        settings = (
            "\n# written by the sites CLI: private cluster, localhost only\n"
            f"port = {self.port()}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "unix_socket_permissions = 0700\n"
            "max_connections = 100\n"
            "shared_buffers = 256MB\n"
            "fsync = on\n"
        )
        conf = self.data_dir / "postgresql.conf"
        self._run(["sh", "-c", f"cat >> '{conf}'"], input=settings)

    def _ensure_database(self) -> None:
        import psycopg  # imported here: the CLI's other commands do not need it
        from psycopg import sql

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone()
            verb = "ALTER" if role else "CREATE"
            # Utility statements take no bind parameters; sql.Literal quotes the generated password.
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                    sql.Identifier(APP_ROLE), sql.Literal(self.password())
                )
            )
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                conn.execute(f"CREATE DATABASE {DATABASE} OWNER {APP_ROLE}")
        with psycopg.connect(self.admin_url(DATABASE), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def _check_postgres_can_reach(self) -> None:
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.root)])
        if probe.returncode != 0:
            raise ClusterError(
                f"the postgres system user cannot write to {self.root}; as root the cluster runs as postgres, "
                "so every parent folder of the checkout must be searchable by it (chmod o+x)"
            )

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(bin_dir() / "pg_ctl"), *args, "-D", str(self.data_dir)])

    def _run(self, cmd: list[str], input: str | None = None) -> None:
        result = subprocess.run(self._as_owner(cmd), capture_output=True, text=True, input=input)
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            log = f"; see {self.log_file}" if self.log_file.exists() else ""
            raise ClusterError(f"{Path(cmd[0]).name} failed: " + " / ".join(detail) + log)

    @staticmethod
    def _as_owner(cmd: list[str]) -> list[str]:
        # initdb and postgres refuse to run as root; the postgres system user owns the cluster then.
        return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def bin_dir() -> Path:
    """The newest installed PostgreSQL server's binaries."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ClusterError(
        "PostgreSQL server binaries not found; install them with: "
        "sudo apt-get install -y postgresql postgresql-$(ls /usr/lib/postgresql | sort -n | tail -1)-postgis-3"
    )


def _free_port(seed: str) -> int:
    """A port stable for one checkout (so two checkouts differ), moved on while it is taken."""
    low, high = PORT_RANGE
    start = low + int(hashlib.sha256(seed.encode()).hexdigest(), 16) % (high - low)
    for offset in range(high - low):
        port = low + (start - low + offset) % (high - low)
        if _port_free(port):
            return port
    raise ClusterError(f"no free TCP port between {low} and {high}")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def database_url(settings) -> str:
    """The URL the register uses: DATABASE_URL when set, else the embedded cluster, which must be running."""
    if settings.database_url:
        return settings.database_url
    cluster = Cluster(settings.cluster_dir)
    if not cluster.running():
        raise ClusterError("the embedded database is not running; start it with `sites db up` (or scripts/run)")
    return cluster.url()
