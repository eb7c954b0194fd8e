"""Sign-in: argon2id hashes (salted, rehashed when the parameters change), one answer for every refusal, lockout,
deactivation, sessions that expire or end, single sign-on by email only for existing users, and the commands that
set passwords."""

from __future__ import annotations

import datetime as dt
import statistics
import time

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import select, text

from gis import tables as t
from gis.auth import authenticate, hash_password, oidc_actor, session_account, verify_password
from gis.cli import main
from gis.services import Register
from sites import accounts
from sites.accounts import SIGN_IN_REFUSED, session_ended, session_expired, user_for_claims
from sites.errors import InvalidInput, PermissionDenied, SignInRefused
from sites.permissions import Actor, require
from tests.security.conftest import PASSWORD, PRINCIPALS, SYSTEM

VIEWER, INSPECTOR, DEACTIVATED = PRINCIPALS["viewer"][0], PRINCIPALS["inspector-own-region"][0], "dan"


def account(engine, name: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(t.app_user).where(t.app_user.c.name == name)).mappings().one())


def refused(engine, name, password, **options) -> str:
    with pytest.raises(SignInRefused) as raised:
        authenticate(engine, name, password, **options)
    return raised.value.message


# ---- hashing -----------------------------------------------------------------------------------------------------
def test_the_same_password_twice_gives_two_salted_argon2id_hashes():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("$argon2id$") and PASSWORD not in first
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)
    assert not verify_password(first, PASSWORD + "!") and not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)


def test_a_hash_made_with_other_parameters_is_replaced_at_the_next_sign_in(world):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with world.engine.begin() as conn:
        conn.execute(t.app_user.update().where(t.app_user.c.name == VIEWER).values(password_hash=weak))
    authenticate(world.engine, VIEWER, PASSWORD)
    stored = account(world.engine, VIEWER)["password_hash"]
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)
    assert account(world.engine, VIEWER)["password_changed_at"] is not None
    authenticate(world.engine, VIEWER, PASSWORD)  # the new hash holds the same password


# ---- signing in --------------------------------------------------------------------------------------------------
def test_the_right_password_gives_the_users_role_and_regions(world):
    actor = authenticate(world.engine, INSPECTOR, PASSWORD)
    assert (actor.name, actor.role, actor.regions, actor.active) == (INSPECTOR, "inspector", {"550000000"}, True)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(world):
    assert refused(world.engine, VIEWER, "not the password 1") == SIGN_IN_REFUSED
    assert refused(world.engine, "nobody", PASSWORD) == SIGN_IN_REFUSED
    assert refused(world.engine, VIEWER, "") == SIGN_IN_REFUSED
    assert refused(world.engine, VIEWER, "x" * 10_000) == SIGN_IN_REFUSED  # too long to be a password: not hashed
    assert account(world.engine, VIEWER)["failed_logins"] == 3


def test_a_wrong_password_and_an_unknown_user_take_about_as_long(world):
    def median(name: str) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            refused(world.engine, name, "not the password 1", now=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    unknown, wrong = median("nobody"), median(VIEWER)
    assert 0.6 < unknown / wrong < 1.6, (unknown, wrong)


def test_repeated_failures_lock_the_account_even_against_the_right_password(world):
    now = dt.datetime.now(dt.timezone.utc)
    for attempt in range(accounts.MAX_FAILURES):
        refused(world.engine, VIEWER, f"guess number {attempt}", now=now)
    locked_until = account(world.engine, VIEWER)["locked_until"]
    assert locked_until == now + dt.timedelta(minutes=accounts.LOCK_MINUTES)
    assert refused(world.engine, VIEWER, PASSWORD, now=now + dt.timedelta(minutes=1)) == SIGN_IN_REFUSED
    later = now + dt.timedelta(minutes=accounts.LOCK_MINUTES, seconds=1)
    assert authenticate(world.engine, VIEWER, PASSWORD, now=later).name == VIEWER
    assert (account(world.engine, VIEWER)["failed_logins"], account(world.engine, VIEWER)["locked_until"]) == (0, None)


def test_an_administrator_unlocks_by_setting_a_new_password(world):
    for attempt in range(accounts.MAX_FAILURES):
        refused(world.engine, VIEWER, f"guess number {attempt}")
    Register(world.engine).set_password(SYSTEM, VIEWER, "a fresh password 99")
    assert authenticate(world.engine, VIEWER, "a fresh password 99").name == VIEWER


def test_deactivated_users_and_the_system_user_cannot_sign_in(world):
    assert refused(world.engine, DEACTIVATED, PASSWORD) == SIGN_IN_REFUSED
    assert refused(world.engine, "system", PASSWORD) == SIGN_IN_REFUSED
    Register(world.engine).set_active(SYSTEM, VIEWER, False)
    assert refused(world.engine, VIEWER, PASSWORD) == SIGN_IN_REFUSED
    with pytest.raises(InvalidInput, match="system"):
        Register(world.engine).set_active(SYSTEM, "system", False)


def test_a_user_added_without_a_password_cannot_sign_in(world):
    Register(world.engine).add_user(SYSTEM, "nopass", "viewer")
    assert refused(world.engine, "nopass", "") == SIGN_IN_REFUSED
    assert refused(world.engine, "nopass", PASSWORD) == SIGN_IN_REFUSED


@pytest.mark.parametrize("name, password, message", [
    ("ok", "short", "12 to 256 characters"),
    ("ok", "y" * 300, "12 to 256 characters"),
    ("aigerim", "my name is aigerim!", "does not contain the user name"),
    ("Bad Name", "long enough password", "lower-case letters"),
    ("public", "long enough password", "reserved"),
])
def test_weak_passwords_and_bad_or_reserved_names_are_refused(world, name, password, message):
    with pytest.raises(InvalidInput, match=message):
        Register(world.engine).add_user(SYSTEM, name, "viewer", password=password)


def test_the_audit_trail_records_password_changes_but_never_a_hash(world):
    register = Register(world.engine)
    register.add_user(SYSTEM, "newcomer", "viewer", password="a brand new password 1")
    register.set_password(SYSTEM, "newcomer", "another new password 2")
    with world.engine.connect() as conn:
        rows = conn.execute(text("SELECT before::text, after::text FROM audit WHERE entity = 'app_user' "
                                 "AND entity_id = 'newcomer' ORDER BY id")).all()
    assert len(rows) == 2 and "argon2" not in str(rows) and '"password_set": true' in rows[1][1]


# ---- sessions ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("idle_seconds, expired", [(0, False), (59 * 60 + 59, False), (60 * 60, True),
                                                   (5 * 3600, True)])
def test_a_session_expires_after_the_idle_minutes(idle_seconds, expired):
    assert session_expired(last_seen=1_000.0, now=1_000.0 + idle_seconds, minutes=60) is expired


def test_a_session_ends_when_the_user_is_deactivated_or_the_password_changes():
    assert not session_ended(signed_in_at=100.0, password_changed_at=50.0, active=True)
    assert not session_ended(signed_in_at=100.0, password_changed_at=None, active=True)
    assert session_ended(signed_in_at=100.0, password_changed_at=150.0, active=True)
    assert session_ended(signed_in_at=100.0, password_changed_at=None, active=False)


def test_an_expired_sessions_actor_is_refused_everything_by_the_services():
    actor = Actor("ada", "admin", expires_at=time.time() - 1)
    with pytest.raises(PermissionDenied, match="session of ada expired"):
        require(actor, "manage_users")
    require(Actor("ada", "admin", expires_at=time.time() + 60), "manage_users")


def test_a_running_session_sees_a_password_change(world):
    before = session_account(world.engine, VIEWER)["password_changed_at"]
    Register(world.engine).set_password(SYSTEM, VIEWER, "a fresh password 99")
    after = session_account(world.engine, VIEWER)["password_changed_at"]
    assert after > before
    assert session_ended(before.timestamp() + 0.001, after.timestamp(), True)


# ---- single sign-on ----------------------------------------------------------------------------------------------
USERS = [{"name": "vera", "email": "Vera@Example.kz", "active": True},
         {"name": "gone", "email": "gone@example.kz", "active": False}]


@pytest.mark.parametrize("claims, expected", [
    ({"email": "vera@example.kz", "email_verified": True}, "vera"),
    ({"email": "  VERA@example.kz "}, "vera"),
    ({"email": "vera@example.kz", "email_verified": False}, None),
    ({"email": "gone@example.kz"}, None),
    ({"email": "stranger@example.kz", "roles": ["admin"]}, None),
    ({"sub": "123"}, None),
    ({"email": ""}, None),
])
def test_claims_name_an_existing_active_user_by_email_or_nobody(claims, expected):
    assert user_for_claims(claims, USERS) == expected


def test_another_claim_can_be_the_key():
    users = [{"name": "vera", "email": "E123", "active": True}]
    assert user_for_claims({"employee_id": "e123"}, users, claim="employee_id") == "vera"


def test_claims_never_make_a_user_or_raise_a_role(world):
    viewer = PRINCIPALS["viewer"][0]
    claims = {"email": f"{viewer}@example.kz", "email_verified": True, "role": "admin", "groups": ["admins"]}
    actor = oidc_actor(world.engine, claims)
    assert (actor.name, actor.role) == (viewer, "viewer")
    before = Register(world.engine).list_users()
    assert oidc_actor(world.engine, {"email": "boss@example.kz", "role": "admin"}) is None
    assert oidc_actor(world.engine, {"email": "dan@example.kz"}) is None  # deactivated
    assert Register(world.engine).list_users() == before


# ---- the commands ------------------------------------------------------------------------------------------------
@pytest.fixture
def run(world, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", world.engine.url.render_as_string(hide_password=False))

    def invoke(*args: str, input: str | None = None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_users_add_generate_prints_a_random_password_once(run, world):
    made = run("users", "add", "aliya", "--role", "inspector", "--region", "KZ-ALA", "--generate")
    assert made.exit_code == 0, made.output
    password = made.output.split("password for aliya: ")[1].split()[0]
    assert len(password) >= 20 and authenticate(world.engine, "aliya", password).role == "inspector"
    again = run("users", "add", "beka", "--role", "inspector", "--generate")
    assert again.output.split("password for beka: ")[1].split()[0] != password
    listed = run("users", "list").output
    assert password not in listed and "aliya\tinspector\t750000000\tactive\tpassword" in listed


def test_users_add_without_a_password_says_the_user_cannot_sign_in_yet(run):
    made = run("users", "add", "aliya", "--role", "viewer")
    assert made.exit_code == 0 and "cannot sign in until `sites users passwd aliya`" in made.output
    assert "aliya\tviewer\t-\tactive\tno password" in run("users", "list").output


def test_users_passwd_from_stdin_or_a_prompt_and_deactivate(run, world):
    run("users", "add", "aliya", "--role", "viewer", "--password-stdin", input="first password 123\n")
    assert authenticate(world.engine, "aliya", "first password 123").name == "aliya"
    changed = run("users", "passwd", "aliya", input="second password 456\nsecond password 456\n")
    assert changed.exit_code == 0 and "second password" not in changed.output
    assert refused(world.engine, "aliya", "first password 123") == SIGN_IN_REFUSED
    assert authenticate(world.engine, "aliya", "second password 456").name == "aliya"
    assert run("users", "deactivate", "aliya").exit_code == 0
    assert refused(world.engine, "aliya", "second password 456") == SIGN_IN_REFUSED
    assert "aliya\tviewer\t-\tinactive" in run("users", "list").output
    assert run("users", "deactivate", "aliya", "--undo").exit_code == 0
    assert authenticate(world.engine, "aliya", "second password 456").name == "aliya"


def test_users_commands_refuse_two_password_sources_short_passwords_and_non_admins(run):
    both = run("users", "add", "aliya", "--role", "viewer", "--generate", "--password-stdin", input="x\n")
    assert both.exit_code == 2 and "choose one of --password-stdin and --generate" in both.output
    short = run("users", "add", "aliya", "--role", "viewer", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "password: expected 12 to 256 characters" in short.output
    refused_command = run("--as", PRINCIPALS["planner"][0], "users", "passwd", VIEWER, "--generate")
    assert refused_command.exit_code == 1 and "may not manage users" in refused_command.output


def test_demo_accounts_get_random_passwords_shown_once(run, world):
    first = run("demo", "--accounts")
    assert first.exit_code == 0, first.output
    lines = {line.split()[0]: line.split("password: ")[1] for line in first.output.splitlines()
             if "password: " in line}
    assert set(lines) == {"demo-admin", "demo-planner", "demo-inspector", "demo-viewer"}
    assert len(set(lines.values())) == 4
    assert authenticate(world.engine, "demo-inspector", lines["demo-inspector"]).regions == {"550000000",
                                                                                              "350000000"}
    again = run("demo", "--accounts")
    assert "password: " not in again.output and "exist already" in again.output
