"""Long-lived resources the pages share: settings and one cached database engine."""

from __future__ import annotations

import streamlit as st

from gis.cluster import database_url
from gis.db import make_engine
from gis.settings import Settings


@st.cache_resource
def settings() -> Settings:
    return Settings.from_env()


@st.cache_resource
def engine():
    """The app's engine: DATABASE_URL when set, otherwise the embedded cluster (which must be up)."""
    return make_engine(database_url(settings()))


@st.cache_resource
def register():
    """The register's services, sharing the cached engine."""
    from gis.services import Register

    return Register(engine())


def language() -> str:
    """The reader's language, chosen in the sidebar; ``?lang=kk`` in the address opens the app in Kazakh."""
    from sites.i18n import LANGUAGE_NAMES, LANGUAGES, parse_language

    asked = st.query_params.get("lang", "")
    default = asked.lower() if asked.lower() in LANGUAGES else settings().language
    if "lang" not in st.session_state:
        st.session_state["lang"] = default
    chosen = st.sidebar.selectbox("Тіл · Язык · Language", LANGUAGES, format_func=LANGUAGE_NAMES.get, key="lang")
    st.query_params["lang"] = chosen  # a copied link opens in the same language
    return parse_language(chosen)


def current_language() -> str:
    """The reader's language: the sidebar choice, else ``SITES_LANG`` (gis/settings.py)."""
    return st.session_state.get("lang") or settings().language


def translator():
    """``_(key, **params)`` in the reader's language (the sidebar choice); see sites/i18n.py."""
    from sites.i18n import translator as make

    return make(current_language())


SESSION = "signed-in"  # {"name", "signed_in_at", "last_seen", "via"} of the signed-in user; absent: the public


def session():
    """Who works in this run: the signed-in user, or the public (read only). Called once per run by app.py, before
    any page: it ends a session idle for ``SITES_SESSION_MINUTES`` or whose account changed since (deactivated, new
    password), and draws the sidebar's sign-in form, or who is signed in with a sign-out button."""
    _ = translator()
    current = _resolve(_)
    st.session_state["actor"] = current
    box = st.sidebar.container(border=True)
    if current.public:
        _sign_in_form(box, _)
    else:
        _signed_in(box, current, _)
    return current


def actor():
    """The acting user of this run (see :func:`session`): a signed-in user, or ``sites.permissions.PUBLIC``.

    Its ``expires_at`` is the end of the idle time, so an action bound to it (a button's callback) after the
    session has expired is refused by the services.
    """
    from sites.permissions import PUBLIC

    return st.session_state.get("actor", PUBLIC)


def _resolve(_):
    """The session's actor now, or the public when there is none or it ended (saying why)."""
    import time

    from gis import auth
    from sites.accounts import session_ended, session_expired
    from sites.permissions import PUBLIC, Actor

    state = st.session_state.get(SESSION) or _single_sign_on(_)
    if not state:
        return PUBLIC
    now, minutes = time.time(), settings().session_minutes
    if session_expired(state["last_seen"], now, minutes):
        return _end(_("signin.expired", minutes=minutes), state)
    account = auth.session_account(engine(), state["name"])
    changed = account and account["password_changed_at"]
    if account is None or session_ended(state["signed_in_at"], changed.timestamp() if changed else None,
                                        account["active"]):
        return _end(_("signin.ended"), state)
    state["last_seen"] = now
    return Actor(account["name"], account["role"], frozenset(account["regions"]), True,
                 expires_at=now + minutes * 60)


def _start(name: str, via: str) -> dict:
    import time

    now = time.time()
    state = st.session_state[SESSION] = {"name": name, "signed_in_at": now, "last_seen": now, "via": via}
    return state


def _end(message: str | None, state: dict | None = None):
    """Sign out: forget the session (and the single sign-on identity), and say why on the next run."""
    from sites.permissions import PUBLIC

    st.session_state.pop(SESSION, None)
    st.session_state["actor"] = PUBLIC
    if message:
        st.session_state["signin-message"] = message
    if state and state.get("via") == "oidc":
        st.logout()  # otherwise the provider's identity would sign the reader straight back in
    return PUBLIC


def _sign_in_form(box, _) -> None:
    from gis import auth
    from sites.errors import SignInRefused

    if message := st.session_state.pop("signin-message", None):
        box.warning(message)
    box.markdown(f"*{_('signin.public')}*")  # markdown, not a caption: pages' captions keep their order
    with box.form("sign-in", clear_on_submit=True, border=False):  # the password is not kept in the session
        name = st.text_input(_("signin.name"), key="signin-name", autocomplete="username")
        password = st.text_input(_("signin.password"), type="password", key="signin-password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(_("signin.submit"), key="signin-submit")
    if submitted:
        del st.session_state["signin-password"]  # the typed password is not kept in the session's state
        try:
            signed_in = auth.authenticate(engine(), name.strip(), password)
        except SignInRefused:
            box.error(_("signin.refused"))
            return
        _start(signed_in.name, "password")
        st.rerun()
    if _single_sign_on_configured():
        box.button(_("signin.oidc"), key="signin-oidc", on_click=st.login)


def _signed_in(box, current, _) -> None:
    from sites.regions import region_of

    scope = ", ".join(sorted(region_of(kato).iso for kato in current.regions))
    details = _("signin.role." + current.role) + (f"; {scope}" if scope else "")
    box.markdown(_("signin.as", name=current.name, details=details))
    if box.button(_("signin.out"), key="sign-out"):
        _end(None, st.session_state.get(SESSION))
        st.rerun()


def _single_sign_on_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's OIDC sign-in, st.login)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _single_sign_on(_) -> dict | None:
    """A session for the identity the provider signed in (st.user), when it names an active register user.

    The claim ``SITES_OIDC_CLAIM`` (email) must equal a user's email (gis.auth.oidc_actor); the role and regions are
    the register's. An identity naming nobody stays the public, with a message.
    """
    if not _single_sign_on_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    from gis import auth

    claims = st.user.to_dict()
    found = auth.oidc_actor(engine(), claims, settings().oidc_claim)
    if found is None or not found.active:
        if not st.session_state.get("signin-oidc-refused"):
            st.session_state["signin-oidc-refused"] = True
            st.session_state["signin-message"] = _("signin.oidc_unknown",
                                                   who=str(claims.get(settings().oidc_claim) or "?"))
        return None
    return _start(found.name, "oidc")


def map_sites(regions: list[str]) -> list[dict]:
    """The map's sites as the reader may see them (the public: confidential sites generalised), read again only when
    the register has changed since the last read (shared, not copied)."""
    from gis import queries

    lang = st.session_state.get("lang") or settings().language
    return _map_sites(queries.register_version(engine()), tuple(sorted(regions)), actor().public, lang)


@st.cache_resource(max_entries=8, show_spinner=False)
def _map_sites(version: tuple[int, int], regions: tuple[str, ...], public: bool, lang: str) -> list[dict]:
    # cache_resource hands every session the same list (at 100,000 sites a copy per rerun costs seconds);
    # ``version`` is part of the key, so any change to the register reads the sites again; the public's rows are
    # cached apart from everyone else's.
    from gis import queries
    from sites.permissions import PUBLIC

    return queries.map_sites(engine(), list(regions), actor=PUBLIC if public else None, lang=lang)


@st.cache_data
def xlsform() -> bytes:
    """The field form as XLSX bytes, built once per app process from the schema and the catalogue."""
    import tempfile
    from pathlib import Path

    from gis.xlsform import write_xlsform

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "kz_legacy_sites.xlsx"
        write_xlsform(path)
        return path.read_bytes()
