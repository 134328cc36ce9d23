"""The users table (用户表): one row per user with the SHA-256 of their token (see :mod:`geoservice.users`).

Functions of an open transaction; the caller writes the audit row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geoservice.store.records import User

if TYPE_CHECKING:
    from geoservice.store.transaction import Transaction

_USER_COLUMNS = "name, role, created_at, last_used_at, expires_at"


def user_exists(tx: Transaction, name: str) -> bool:
    """Whether a user called ``name`` exists."""
    return tx.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone() is not None


def insert_user(
    tx: Transaction, name: str, role: str, token_hash: str, created_at: str, expires_at: str | None = None
) -> None:
    """Add a user row (``expires_at``: when the token stops working, ``None`` for never)."""
    tx.execute(
        "INSERT INTO users (name, role, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        [name, role, token_hash, created_at, expires_at],
    )


def touch_user(tx: Transaction, name: str, at: str) -> None:
    """Record that ``name``'s token was used at ``at`` (``last_used_at``)."""
    tx.execute("UPDATE users SET last_used_at = ? WHERE name = ?", [at, name])


def user_by_token_hash(tx: Transaction, token_hash: str) -> User | None:
    """The user whose token hashes to ``token_hash``, or ``None``."""
    row = tx.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE token_hash = ?", [token_hash]).fetchone()
    return None if row is None else _user(row)


def all_users(tx: Transaction) -> list[User]:
    """Every user, by name."""
    return [_user(r) for r in tx.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name").fetchall()]


def delete_user(tx: Transaction, name: str) -> bool:
    """Remove the user ``name``; whether there was one."""
    return bool(tx.execute("DELETE FROM users WHERE name = ?", [name]).rowcount == 1)


def _user(row: tuple[str, str, str, str | None, str | None]) -> User:
    return User(name=row[0], role=row[1], created_at=row[2], last_used_at=row[3], expires_at=row[4])
