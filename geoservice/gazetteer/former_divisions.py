"""The table of former division names (曾用名表), country-wide, built once and committed.

``data/former_division_names.json`` lists divisions whose name changed or that were merged into another, each
pointing at today's division (2021 statistical codes of ``data/divisions``). It is built from two sources:

- **jionlp** (``jionlp/dictionary/china_location_change.txt``, Apache License 2.0, © dongrixinyu): the
  Ministry of Civil Affairs' change list 2002–2023 as JioNLP ships it (date, approval, the old chain ⇒ the new
  chain). Read at build time only; the package is a ``bench`` extra, never needed at run time.
- **hand** (:data:`HAND`): well-known changes that list does not carry (Hangzhou, Ningbo, Suzhou, Nanjing,
  Wuxi, Shanghai, Beijing, Tianjin, Chongqing, Jinan …), each from the State Council approval published in
  the civil-affairs division records (民政部行政区划变更公报).

Only changes of a whole division's name are listed. A change of type alone (萧山市 → 萧山区, 良渚镇 → 良渚街道)
needs no entry: the parser takes a short form followed by another generic of the same level as that division
and says so (``former_type``). A former name that is today another division's name (桥东区, 城区) is skipped
by the tree, so a stale entry never hides a current division.

Rebuild with ``python -m geoservice.gazetteer.former_divisions [DIVISIONS_DIR]`` (needs ``jionlp``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

__all__ = ["HAND", "build_table", "main"]

OUT: Final = Path(__file__).parent / "data" / "former_division_names.json"

#: (province code, former name, current name, year) — merged or renamed divisions that jionlp does not list.
HAND: Final[tuple[tuple[str, str, str, int], ...]] = (
    ("42", "襄樊市", "襄阳市", 2010), ("42", "襄阳区", "襄州区", 2010), ("42", "郧县", "郧阳区", 2014),
    ("42", "黄陂县", "黄陂区", 1998), ("42", "新洲县", "新洲区", 1998), ("42", "武昌县", "江夏区", 1995),
    ("42", "汉阳县", "蔡甸区", 1992),
    ("33", "江东区", "鄞州区", 2016), ("33", "鄞县", "鄞州区", 2002), ("33", "绍兴县", "柯桥区", 2013),
    ("32", "沧浪区", "姑苏区", 2012), ("32", "平江区", "姑苏区", 2012), ("32", "金阊区", "姑苏区", 2012),
    ("32", "白下区", "秦淮区", 2013), ("32", "崇安区", "梁溪区", 2015), ("32", "南长区", "梁溪区", 2015),
    ("32", "北塘区", "梁溪区", 2015), ("32", "戚墅堰区", "武进区", 2015), ("32", "新浦区", "海州区", 2014),
    ("32", "楚州区", "淮安区", 2012), ("32", "维扬区", "邗江区", 2011), ("32", "吴县市", "吴中区", 2000),
    ("31", "闸北区", "静安区", 2015), ("31", "卢湾区", "黄浦区", 2011), ("31", "南汇区", "浦东新区", 2009),
    ("11", "宣武区", "西城区", 2010), ("11", "崇文区", "东城区", 2010),
    ("12", "塘沽区", "滨海新区", 2009), ("12", "汉沽区", "滨海新区", 2009), ("12", "大港区", "滨海新区", 2009),
    ("12", "蓟县", "蓟州区", 2016),
    ("50", "万盛区", "綦江区", 2011), ("50", "双桥区", "大足区", 2011), ("50", "开县", "开州区", 2016),
    ("50", "万县市", "万州区", 1998),
    ("37", "莱芜市", "济南市", 2019), ("37", "莱城区", "莱芜区", 2019), ("37", "胶南市", "黄岛区", 2012),
    ("37", "四方区", "市北区", 2012),
    ("34", "居巢区", "巢湖市", 2011),
    ("44", "东山区", "越秀区", 2005), ("44", "芳村区", "荔湾区", 2005),
    ("41", "开封县", "祥符区", 2014), ("41", "金明区", "龙亭区", 2014),
    ("53", "思茅市", "普洱市", 2007), ("53", "翠云区", "思茅区", 2007),
    ("52", "盘县", "盘州市", 2017), ("44", "萝岗区", "黄埔区", 2014), ("51", "郫县", "郫都区", 2016),
    ("61", "户县", "鄠邑区", 2016), ("64", "固原县", "原州区", 2001), ("52", "铜仁市", "碧江区", 2011),
    ("54", "日喀则市", "桑珠孜区", 2014), ("65", "哈密市", "伊州区", 2016),
)  # fmt: skip

_LEVEL_BY_LENGTH: Final = {2: "province", 4: "city", 6: "county"}


def _current_divisions(directory: Path) -> dict[str, str]:
    """code → name for provinces, cities and counties of the division files (placeholders left out)."""
    names: dict[str, str] = {}
    for file_name in ("provinces.json", "cities.json", "counties.json"):
        names.update(json.loads((directory / file_name).read_text(encoding="utf-8")))
    return {code: name for code, name in names.items() if name not in ("市辖区", "县", "省直辖县级行政区划")}


def _code_of(current: dict[str, str], province: str, name: str) -> str | None:
    """The code of the one division named ``name`` in ``province``, or ``None`` (missing or not unique)."""
    codes = [code for code, n in current.items() if n == name and code.startswith(province)]
    return codes[0] if len(codes) == 1 else None


def _jionlp_changes(path: Path) -> list[tuple[str, str, str]]:
    """(province name, former name, current name) of each renamed division in jionlp's change list."""
    changes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=>" not in line:
            continue
        before, after = line.split("=>")
        old = before.split("\t")[2:]
        old_full = old[0::2]  # the file pairs every full name with its short form
        new_full = after.split("\t")
        if len(old_full) != len(new_full) or not old_full:
            continue
        for former, current in zip(old_full, new_full, strict=True):
            if former != current:
                changes.append((new_full[0], former, current))
    return changes


def build_table(directory: Path, jionlp_file: Path | None) -> dict[str, Any]:
    """The JSON table: every change whose current division is found (uniquely) in ``directory``."""
    current = _current_divisions(directory)
    province_code = {name: code for code, name in current.items() if len(code) == 2}
    rows: dict[str, dict[str, Any]] = {}
    for province_prefix, former, name, year in HAND:
        code = _code_of(current, province_prefix, name)
        if code is not None:
            rows[former] = {"former": former, "current": name, "code": code, "year": year, "source": "hand"}
    changes = _jionlp_changes(jionlp_file) if jionlp_file else []
    targets: dict[str, set[str]] = {}
    for _, former, name in changes:
        targets.setdefault(former, set()).add(name)
    for province_name, former, name in changes:
        if len(targets[former]) > 1:
            continue  # split between divisions (柳州地区 → 来宾市 and 柳州市): the name alone cannot say which
        province = province_code.get(province_name)
        code = _code_of(current, province, name) if province is not None else None
        if code is None or former in rows or former in current.values():
            continue  # unknown today, already listed, or still some division's name
        rows[former] = {"former": former, "current": name, "code": code, "source": "jionlp"}
    return {
        "_about": (
            "Former names of divisions (曾用名) that residents still write, each resolved to the current division "
            "(2021 codes). Built by `python -m geoservice.gazetteer.former_divisions`: source `jionlp` = JioNLP's "
            "china_location_change.txt (Apache-2.0), `hand` = State Council approvals as published in the "
            "civil-affairs division records (民政部行政区划变更公报). An entry whose code is missing from the "
            "loaded tree or whose current name differs is skipped."
        ),
        "renames": sorted(rows.values(), key=lambda r: (r["code"], r["former"])),
    }


def main(argv: list[str] | None = None) -> int:
    """Rebuild ``data/former_division_names.json`` from the division files and jionlp's change list."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else Path(__file__).resolve().parents[2] / "data" / "divisions"
    try:
        import jionlp
    except ImportError:
        print("jionlp is needed to rebuild the table: pip install 'geoservice[bench]'", file=sys.stderr)
        return 2
    changes = Path(jionlp.__file__).parent / "dictionary" / "china_location_change.txt"
    table = build_table(directory, changes)
    lines = [json.dumps(r, ensure_ascii=False) for r in table["renames"]]
    OUT.write_text(
        '{\n  "_about": '
        + json.dumps(table["_about"], ensure_ascii=False)
        + ',\n  "renames": [\n    '
        + ",\n    ".join(lines)
        + "\n  ]\n}\n",
        encoding="utf-8",
    )
    print(f"{len(lines)} former names → {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
