# Shared set-up for scripts/run and scripts/test (sourced, not run): system packages, venv, database, schema.
# Idempotent: each step checks before it acts.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SITES="$ROOT/.venv/bin/sites"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
apt_install() {
    # Install Debian packages as root; otherwise print the exact command and stop.
    if [ "$(id -u)" -ne 0 ]; then
        die "missing system packages; install them with: sudo apt-get install -y $*"
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    say "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

pg_major() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1; }

ensure_postgis() {
    if [ -z "$(pg_major)" ] || [ ! -x "/usr/lib/postgresql/$(pg_major)/bin/initdb" ]; then
        # Debian's postgresql package would create and start a cluster on port 5432; we want none.
        if [ "$(id -u)" -eq 0 ]; then
            mkdir -p /etc/postgresql-common
            grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf ||
                echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
        fi
        apt_install postgresql
    fi
    local major
    major=$(pg_major)
    if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
        apt_install "postgresql-$major-postgis-3"
    fi
}

ensure_tools() {
    local missing=()
    python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
    command -v npm >/dev/null || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

ensure_venv() {
    [ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }
    local stamp=.venv/.installed
    local want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing the project and its dependencies into .venv"
        .venv/bin/python -m pip install -q --upgrade pip
        .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
        echo "$want" > "$stamp"
    fi
}

setup_all() {
    ensure_tools
    if [ -z "${DATABASE_URL:-}" ]; then ensure_postgis; fi
    ensure_venv
    "$SITES" assets
    if [ -z "${DATABASE_URL:-}" ]; then "$SITES" db up; else say "using DATABASE_URL; starting no database"; fi
    "$SITES" migrate
}
