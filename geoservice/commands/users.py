"""``geoservice users add|list|remove`` (用户与令牌命令): accounts and their tokens from a shell."""

from __future__ import annotations

import argparse
from typing import Any

from geoservice.commands._common import open_db


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``users add NAME --role R``, ``users list`` and ``users remove NAME``."""
    users = sub.add_parser("users", help="用户与令牌 / users and tokens")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser(
        "add", parents=[common], help="新增用户并打印令牌 / add a user, print its token once"
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["officer", "inspector", "planner", "admin"])
    add.add_argument(
        "--expires", help="令牌有效期 / the token expires after, e.g. 90d, 12h, 30m (default: never)"
    )
    add.set_defaults(func=cmd_users_add)
    listing = users_sub.add_parser("list", parents=[common], help="列出用户 / list users")
    listing.set_defaults(func=cmd_users_list)
    remove = users_sub.add_parser("remove", parents=[common], help="删除用户(吊销令牌)/ remove a user")
    remove.add_argument("name")
    remove.set_defaults(func=cmd_users_remove)


def cmd_users_add(args: argparse.Namespace) -> int:
    """Add a user and print its token once."""
    from geoservice.users import add_user, parse_duration

    expires_in = parse_duration(args.expires) if args.expires else None
    with open_db(args) as store:
        token = add_user(store, args.name, args.role, expires_in=expires_in)
    print(
        f"已创建用户 {args.name}(角色 {args.role}),令牌只显示这一次 / user created; the token is shown once:"
    )
    print(token)
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    """One line per user: name, role, created, last used."""
    from geoservice.users import list_users

    with open_db(args) as store:
        for user in list_users(store):
            print(
                f"{user.name}\t{user.role}\t{user.created_at}\t{user.last_used_at or '-'}\t{user.expires_at or '-'}"
            )
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    """Remove a user, which revokes its token."""
    from geoservice.users import remove_user

    with open_db(args) as store:
        remove_user(store, args.name)
    print(f"已删除 / removed {args.name}")
    return 0
