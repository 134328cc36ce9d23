"""Users and bearer tokens (用户与令牌).

A token is 32 random bytes shown once; only its SHA-256 is stored. (A slow password hash is not
needed: the token carries 256 bits of entropy, so it cannot be guessed from its hash.)
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Literal, get_args

from geoservice.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from geoservice.store import Store, User, utc_now
from geoservice.store.accounts import all_users, delete_user, insert_user, user_by_token_hash, user_exists

Role = Literal["officer", "inspector", "planner", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
ROLE_LABELS = {
    "officer": "地名管理员 / place-name officer",
    "inspector": "界线巡检员 / boundary inspector",
    "planner": "规划人员 / planner",
    "admin": "管理员 / administrator",
}


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: Store, name: str, role: str) -> str:
    """Create a user with ``role`` and return its new token (shown once, stored hashed).

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
    if role not in ROLES:
        raise InvalidInputError(
            f"未知角色 {role!r} / unknown role {role!r}; choose one of {', '.join(ROLES)}",
            field="role",
            value=role,
            rule="role",
        )
    token = secrets.token_urlsafe(32)
    with store.transaction(user="system") as tx:
        if user_exists(tx, name):
            raise ConflictError(
                f"用户 {name!r} 已存在 / user {name!r} already exists", field="name", value=name
            )
        insert_user(tx, name, role, hash_token(token), utc_now())
        tx.audit("create", "users", name, None, {"name": name, "role": role}, "user added")
    return token


def authenticate(store: Store, token: str) -> User:
    """The user holding ``token``; :class:`AuthenticationError` if nobody does."""
    with store.transaction(readonly=True) as tx:
        user = user_by_token_hash(tx, hash_token(token))
    if user is None:
        raise AuthenticationError("令牌无效 / invalid token: ask an administrator for a new one")
    return user


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
