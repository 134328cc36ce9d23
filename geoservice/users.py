"""Users and bearer tokens (用户与令牌).

A token is 32 random bytes shown once; only its SHA-256 is stored. (A slow password hash is not
needed: the token carries 256 bits of entropy, so it cannot be guessed from its hash.) A token may expire
(``expires_at``, ``geoservice users add NAME --role R --expires 90d``); removing the user revokes it at once.
``last_used_at`` is written at most once per :data:`LAST_USED_EVERY_S` per user (not on every request).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, get_args

from geoservice.errors import (
    AuthenticationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    require_choice,
)
from geoservice.store import Store, User, utc_now
from geoservice.store.accounts import (
    all_users,
    delete_user,
    insert_user,
    touch_user,
    user_by_token_hash,
    user_exists,
)

Role = Literal["officer", "inspector", "planner", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
ROLE_LABELS = {
    "officer": "地名管理员 / place-name officer",
    "inspector": "界线巡检员 / boundary inspector",
    "planner": "规划人员 / planner",
    "admin": "管理员 / administrator",
}


#: ``last_used_at`` is written when it is older than this (one write per user per minute at most).
LAST_USED_EVERY_S: Final = 60.0


def parse_duration(text: str) -> timedelta:
    """A duration like ``90d``, ``12h`` or ``30m`` (for ``--expires``).

    >>> parse_duration("90d").days
    90
    """
    match = re.fullmatch(r"\s*(\d+)\s*([dhm])\s*", text or "")
    if match is None or int(match.group(1)) <= 0:
        raise InvalidInputError(
            f"有效期格式应为 90d / 12h / 30m / --expires must look like 90d, 12h or 30m, got {text!r}",
            field="expires",
            value=text,
            rule="duration",
        )
    unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
    return timedelta(**{unit: int(match.group(1))})


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: Store, name: str, role: str, *, expires_in: timedelta | None = None) -> str:
    """Create a user with ``role`` and return its new token (shown once, stored hashed).

    ``expires_in``: the token stops working that long from now (default: never).

    Raises
    ------
    InvalidInputError
        Unknown role or empty name.
    ConflictError
        A user of that name exists.
    """
    name = name.strip()
    if not name:
        raise InvalidInputError(
            "用户名不能为空 / user name must not be empty", field="name", value=name, rule="required"
        )
    require_choice(role, ROLES, field="role", rule="role", noun_zh="角色", noun_en="role")
    token = secrets.token_urlsafe(32)
    with store.transaction(user="system") as tx:
        if user_exists(tx, name):
            raise ConflictError(
                f"用户 {name!r} 已存在 / user {name!r} already exists", field="name", value=name
            )
        expires_at = _utc_iso(datetime.now(UTC) + expires_in) if expires_in else None
        insert_user(tx, name, role, hash_token(token), utc_now(), expires_at)
        tx.audit("create", "users", name, None, {"name": name, "role": role}, "user added")
    return token


def authenticate(store: Store, token: str) -> User:
    """The user holding ``token``; :class:`AuthenticationError` if nobody does or the token has expired."""
    with store.transaction(readonly=True) as tx:
        user = user_by_token_hash(tx, hash_token(token))
    if user is None:
        raise AuthenticationError("令牌无效 / invalid token: ask an administrator for a new one")
    now = datetime.now(UTC)
    if user.expires_at and _parse_iso(user.expires_at) <= now:
        raise AuthenticationError(
            f"令牌已于 {user.expires_at} 过期,请向管理员申请新令牌 / the token expired at {user.expires_at}; "
            "ask an administrator for a new one",
            field="Authorization",
            rule="expired",
        )
    if not user.last_used_at or (now - _parse_iso(user.last_used_at)).total_seconds() > LAST_USED_EVERY_S:
        with store.transaction(user="system") as tx:  # at most one write per user per minute
            touch_user(tx, user.name, _utc_iso(now))
    return user


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_users(store: Store) -> list[User]:
    """Every user, by name."""
    with store.transaction(readonly=True) as tx:
        return all_users(tx)


def remove_user(store: Store, name: str) -> None:
    """Revoke a user's token by removing the user."""
    with store.transaction(user="system") as tx:
        if not delete_user(tx, name):
            raise NotFoundError(f"没有用户 {name!r} / no user {name!r}", field="name", value=name)
        tx.audit("delete", "users", name, {"name": name}, None, "user removed")
