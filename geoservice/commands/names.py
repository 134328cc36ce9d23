"""``geoservice names …``: check, register, search and move names along their lifecycle from a shell.

Exit codes: 0 ok; 1 failure (a check with errors, a refused registration, an unknown record); 2 bad usage.
``--json`` prints the machine-readable result. Writes are audited under ``--user`` (default: ``$USER``).

Examples::

    geoservice names check 烈山大道 --category road --division 420102002
    geoservice names register 烈山大道 --category road --division 420102002 --reason "沿用历史地名"
    geoservice names search zsl --division 4201
    geoservice names approve ID --approving-body 武汉市人民政府
    geoservice names overdue --today 2026-06-30
    geoservice names reindex          # once after upgrading a database that holds names
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from typing import Any

from geoservice.commands._common import open_db, user_of
from geoservice.division_codes import division_prefix
from geoservice.gazetteer import names as registry
from geoservice.gazetteer.categories import CATEGORY_NAMES
from geoservice.gazetteer.name_registry import registry_for
from geoservice.gazetteer.rules import CheckResult
from geoservice.gazetteer.stored_names import reindex


def add_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``geoservice names check|register|search|approve|…|rename|reindex|overdue``."""
    parser = sub.add_parser(
        "names", help="地名：审核、登记、查询、审批 / place names: check, register, search, approve"
    )
    actions = parser.add_subparsers(dest="names_command", metavar="ACTION", required=True)

    def with_name(p: argparse.ArgumentParser) -> None:
        p.add_argument("name", help="名称 / the name")
        p.add_argument("--category", required=True, choices=CATEGORY_NAMES, help="地名类别 / category")
        p.add_argument("--division", required=True, help="区划代码 / division code, e.g. 420102002")
        p.add_argument("--json", action="store_true", help="JSON 输出 / print JSON")

    check = actions.add_parser(
        "check", parents=[common], help="审核名称（不登记）/ check a name (nothing is written)"
    )
    with_name(check)
    check.set_defaults(func=_cmd_check)

    register = actions.add_parser(
        "register", parents=[common], help="登记名称 / register a name (status proposed)"
    )
    with_name(register)
    register.add_argument("--reason", help="理由（有提示时必填）/ reason, required when the check warns")
    register.add_argument("--meaning", help="含义 / meaning")
    register.add_argument("--origin", help="来历 / origin")
    register.add_argument("--user", default=None, help="登记人 / who registers (default $USER)")
    register.set_defaults(func=_cmd_register)

    search = actions.add_parser("search", parents=[common], help="查询地名 / search names")
    search.add_argument("query")
    search.add_argument(
        "--division", type=division_prefix, help="区划代码前缀 / division code prefix (420100 = 4201)"
    )
    search.add_argument("--category", choices=CATEGORY_NAMES)
    search.add_argument("--limit", type=int, default=10)
    search.add_argument("--json", action="store_true")
    search.set_defaults(func=_cmd_search)

    for action, help_text in (
        ("propose", "规划 → 申报 / propose a planned name"),
        ("approve", "批准 / approve (needs --approving-body)"),
        ("file", "备案 / record the filing"),
        ("announce", "公告 / record the announcement"),
        ("activate", "启用 / put into use"),
        ("refuse", "拒绝 / refuse"),
        ("retire", "废弃 / retire"),
    ):
        p = actions.add_parser(action, parents=[common], help=help_text)
        p.add_argument("id")
        p.add_argument("--on", type=date.fromisoformat, help="日期 YYYY-MM-DD / date of the act")
        p.add_argument("--approving-body", help="批准机关 / approving body")
        p.add_argument("--reason")
        p.add_argument("--user", default=None)
        p.add_argument(
            "--if-version", type=int, help="仅当记录仍为此版本 / only if the record is still this version"
        )
        p.set_defaults(func=_cmd_transition, action=action)

    rename = actions.add_parser("rename", parents=[common], help="更名 / rename (old name kept as historic)")
    rename.add_argument("id")
    rename.add_argument("new_name")
    rename.add_argument("--reason", required=True)
    rename.add_argument("--on", type=date.fromisoformat)
    rename.add_argument("--approving-body")
    rename.add_argument("--user", default=None)
    rename.add_argument(
        "--if-version", type=int, help="仅当记录仍为此版本 / only if the record is still this version"
    )
    rename.set_defaults(func=_cmd_rename)

    reindex = actions.add_parser(
        "reindex",
        parents=[common],
        help="重建持久化地名索引 / rebuild the persisted name check and search index from the records",
    )
    reindex.add_argument("--user", default=None, help="操作人 / who rebuilds (default $USER)")
    reindex.set_defaults(func=_cmd_reindex)

    overdue = actions.add_parser(
        "overdue", parents=[common], help="超期未备案/公告 / past the statutory deadlines"
    )
    overdue.add_argument("--today", type=date.fromisoformat, help="判定日期 / judge as of YYYY-MM-DD")
    overdue.add_argument("--json", action="store_true")
    overdue.set_defaults(func=_cmd_overdue)


def _print_check(result: CheckResult) -> None:
    verdict = "通过 / ok" if result.ok else "不通过 / refused"
    print(
        f"{result.name}  {result.romanized}  [{result.category}, 范围 scope {result.scope.name} {result.scope.code}]"
    )
    print(f"  专名 specific {result.parts.specific}  通名 generic {result.parts.generic or '-'}  → {verdict}")
    for issue in result.issues:
        print(f"  {issue.severity:7} {issue.rule}: {issue.message}")
        for conflict in issue.conflicts:
            print(f"           ↳ {conflict.name} ({conflict.division_code}) {conflict.id}")


def _cmd_check(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        result = registry.check(store, args.name, args.category, args.division)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_check(result)
    return 0 if result.ok else 1


def _cmd_register(args: argparse.Namespace) -> int:
    data = registry.NameInput(
        name=args.name,
        category=args.category,
        division_code=args.division,
        reason=args.reason,
        meaning=args.meaning,
        origin=args.origin,
    )
    with open_db(args) as store:
        feature = registry.register(store, data, user=user_of(args))
    props = feature.properties
    if args.json:
        print(json.dumps({"id": feature.id, **props}, ensure_ascii=False, indent=2, default=str))
    else:
        print(f"已登记 / registered {props['name']} ({props['romanized']}), {props['status']}")
        print(feature.id)
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        hits = (
            registry_for(store)
            .search_index()
            .search(args.query, division_code=args.division, category=args.category, limit=args.limit)
        )
    if args.json:
        rows = [{field: getattr(hit, field) for field in hit.__slots__} for hit in hits]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("无结果 / no match", file=sys.stderr)
    for hit in hits:
        note = f"  {hit.note}" if hit.note else ""
        print(
            f"{hit.score:5.1f}  {hit.match:11} {hit.name}  ({hit.category}, {hit.division_code}, {hit.status})  {hit.id}{note}"
        )
    return 0


def _cmd_reindex(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with open_db(args) as store:
        count = reindex(
            store,
            user=user_of(args),
            progress=lambda step: print(f"  {time.perf_counter() - started:.1f} s: {step}", file=sys.stderr),
        )
    print(f"地名索引已重建 / name index rebuilt: {count} names in {time.perf_counter() - started:.1f} s")
    return 0


def _cmd_transition(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        feature = registry.transition(
            store,
            args.id,
            args.action,
            user=user_of(args),
            on=args.on,
            approving_body=args.approving_body,
            reason=args.reason,
            expected_version=args.if_version,
        )
    props = feature.properties
    due = props.get("filing_due") if props["status"] == "approved" else props.get("announcement_due")
    extra = f", due 期限 {due}" if due and props["status"] in ("approved", "filed") else ""
    print(f"{props['name']}: {props['status']}{extra}")
    return 0


def _cmd_rename(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        feature = registry.rename(
            store,
            args.id,
            args.new_name,
            user=user_of(args),
            reason=args.reason,
            on=args.on,
            approving_body=args.approving_body,
            expected_version=args.if_version,
        )
    props = feature.properties
    print(
        f"已更名 / renamed {props['former_name']} → {props['name']} ({props['romanized']}), {props['status']}"
    )
    return 0


def _cmd_overdue(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        items = registry.overdue(store, args.today)
    if args.json:
        print(json.dumps([i.__dict__ for i in items], ensure_ascii=False, indent=2))
        return 0
    for item in items:
        step = "备案 filing" if item.step == "filing" else "公告 announcement"
        print(
            f"{item.name}\t{item.status}\t{step} due {item.due}\t{item.days_overdue} 天 days over\t{item.id}"
        )
    if not items:
        print("无超期 / nothing overdue")
    return 0
