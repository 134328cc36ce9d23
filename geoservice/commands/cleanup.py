"""Commands ``geoservice cleanup run|export|progress`` and ``geoservice publish directory|announcements``.

不规范地名清理 and 地名公布 from the command line: run a campaign over a division and print its counts, write the
worklist as XLSX, print the progress per district; write the 地名录 of a division or the 公告 list of a period as
HTML, PDF or XLSX. Exit codes: 0 ok, 1 failure, 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from geoservice.commands._common import open_db, user_of
from geoservice.division_codes import DIVISION_HELP, division_code_argument
from geoservice.gazetteer.cleanup import run_campaign
from geoservice.gazetteer.cleanup_worklist import campaign_progress, campaign_workbook
from geoservice.gazetteer.publication import (
    announcement_list,
    directory,
    publication_html,
    publication_workbook,
)
from geoservice.printing import html_to_pdf


def add_commands(subparsers: Any, common: argparse.ArgumentParser) -> None:
    """Add ``cleanup`` and ``publish`` to the ``geoservice`` command."""
    cleanup = subparsers.add_parser(
        "cleanup", help="不规范地名清理 / clean-up campaigns of non-standard names"
    )
    csub = cleanup.add_subparsers(dest="cleanup_command", metavar="ACTION", required=True)
    run = csub.add_parser("run", parents=[common], help="对区划内全部现有地名运行清理 / run a campaign")
    run.add_argument("division_code", type=division_code_argument, help=DIVISION_HELP)
    run.add_argument("--name", help="清理活动名称 / campaign name")
    run.add_argument("--user", help="记入审计的用户 / user written to the audit log")
    run.set_defaults(func=cmd_run)
    export = csub.add_parser(
        "export", parents=[common], help="导出清理清单 XLSX / write the worklist as XLSX"
    )
    export.add_argument("campaign_id")
    export.add_argument("--out", required=True, type=Path, help="输出 .xlsx / output workbook")
    export.set_defaults(func=cmd_export)
    progress = csub.add_parser("progress", parents=[common], help="各区县进度 / progress per district")
    progress.add_argument("campaign_id")
    progress.set_defaults(func=cmd_progress)

    publish = subparsers.add_parser("publish", help="地名录与公告 / the 地名录 and the 公告 list")
    psub = publish.add_subparsers(dest="publish_command", metavar="ACTION", required=True)
    book = psub.add_parser("directory", parents=[common], help="区划地名录 / the gazetteer of a division")
    book.add_argument("division_code", type=division_code_argument, help=DIVISION_HELP)
    _output_arguments(book)
    book.set_defaults(func=cmd_directory)
    ann = psub.add_parser(
        "announcements", parents=[common], help="标准地名公告 / names announced in a period"
    )
    ann.add_argument("--start", required=True, type=date.fromisoformat, help="开始日期 / from (YYYY-MM-DD)")
    ann.add_argument("--end", required=True, type=date.fromisoformat, help="结束日期 / to (YYYY-MM-DD)")
    ann.add_argument("--division", type=division_code_argument, help=DIVISION_HELP)
    _output_arguments(ann)
    ann.set_defaults(func=cmd_announcements)


def _output_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["html", "pdf", "xlsx", "json"], default="html")
    parser.add_argument("--out", type=Path, help="输出文件(默认标准输出,pdf/xlsx 须指定)/ output file")


def cmd_run(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        campaign = run_campaign(store, args.division_code, user=user_of(args), name=args.name)
    p = campaign.properties
    summary = {
        "id": campaign.id,
        **{k: p[k] for k in ("name", "checked", "findings", "errors", "by_class", "by_rule")},
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        args.out.write_bytes(campaign_workbook(store, args.campaign_id))
    print(f"已写出 / written: {args.out}", file=sys.stderr)
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        rows = campaign_progress(store, args.campaign_id)
    print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0


def _write(publication: dict[str, Any], args: argparse.Namespace) -> int:
    if args.format in ("pdf", "xlsx") and args.out is None:
        print(
            f"--format {args.format} 须指定 --out / --format {args.format} needs --out FILE", file=sys.stderr
        )
        return 2
    if args.format == "json":
        text = json.dumps(
            {k: v for k, v in publication.items() if k != "outline"}, ensure_ascii=False, indent=2
        )
        content: bytes | str = text
    elif args.format == "html":
        content = publication_html(publication)
    elif args.format == "pdf":
        content = html_to_pdf(publication_html(publication))
    else:
        content = publication_workbook(publication)
    if args.out is None:
        print(content)
    elif isinstance(content, bytes):
        args.out.write_bytes(content)
    else:
        args.out.write_text(content, encoding="utf-8")
    print(f"{len(publication['entries'])} 条 / names", file=sys.stderr)
    return 0


def cmd_directory(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        publication = directory(store, args.division_code)
    return _write(publication, args)


def cmd_announcements(args: argparse.Namespace) -> int:
    with open_db(args) as store:
        publication = announcement_list(store, args.start, args.end, division_code=args.division)
    return _write(publication, args)
