"""The table of former division names (曾用名表), country-wide, built once and committed.

``data/former_division_names.json`` lists divisions whose name changed or that were merged into another, each
pointing at today's division (2021 statistical codes of ``data/divisions``). It is built from two sources:

- **jionlp** (``jionlp/dictionary/china_location_change.txt``, Apache License 2.0, © dongrixinyu): the
  Ministry of Civil Affairs' change list 2002–2023 as JioNLP ships it (date, approval, the old chain ⇒ the new
  chain). Read at build time only; the package is a ``bench`` extra, never needed at run time.
- **hand** (:data:`HAND`): well-known changes that list does not carry (it has 2002, 2010 and 2017–2023 only):
  county-level mergers and renames 1995–2021 across the country (Hangzhou, Ningbo, Suzhou, Nanjing, Wuxi, Huai'an,
  Shanghai, Beijing, Tianjin, Chongqing, Jinan, Shenyang, Harbin, Baoding, Xiamen, Shantou, Foshan, Guiyang,
  Urumqi, the former county-level seats of prefectures that became cities …), each from the State Council
  approval published in the civil-affairs division records (民政部行政区划变更公报).

Only changes of a whole division's name are listed. A change of type alone (萧山市 → 萧山区, 良渚镇 → 良渚街道)
needs no entry: the parser takes a short form followed by another generic of the same level as that division
and says so (``former_type``). A former name that is today another division's name (桥东区, 市中区, 城区) is
taken by the tree only where that division does not fit the written parents, so it never hides a current one.

Rebuild with ``python -m geoservice.gazetteer.former_divisions [DIVISIONS_DIR]`` (needs ``jionlp``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Final

__all__ = ["HAND", "build_table", "main"]

OUT: Final = Path(__file__).parent / "data" / "former_division_names.json"

#: (scope, former name, current name, year) — merged or renamed divisions that jionlp does not list. The scope is
#: the code of the province, or of the prefecture where the current name is not unique in its province (鼓楼区).
HAND: Final[tuple[tuple[str, str, str, int], ...]] = (
    ("42", "襄樊市", "襄阳市", 2010), ("42", "襄阳区", "襄州区", 2010), ("42", "郧县", "郧阳区", 2014),
    ("42", "黄陂县", "黄陂区", 1998), ("42", "新洲县", "新洲区", 1998), ("42", "武昌县", "江夏区", 1995),
    ("42", "汉阳县", "蔡甸区", 1992),
    ("33", "江东区", "鄞州区", 2016), ("33", "鄞县", "鄞州区", 2002), ("33", "绍兴县", "柯桥区", 2013),
    ("33", "衢县", "衢江区", 2001), ("33", "金华县", "金东区", 2000),
    ("32", "沧浪区", "姑苏区", 2012), ("32", "平江区", "姑苏区", 2012), ("32", "金阊区", "姑苏区", 2012),
    ("32", "白下区", "秦淮区", 2013), ("32", "崇安区", "梁溪区", 2015), ("32", "南长区", "梁溪区", 2015),
    ("32", "北塘区", "梁溪区", 2015), ("32", "戚墅堰区", "武进区", 2015), ("32", "新浦区", "海州区", 2014),
    ("32", "楚州区", "淮安区", 2012), ("32", "维扬区", "邗江区", 2011), ("32", "吴县市", "吴中区", 2000),
    ("3201", "下关区", "鼓楼区", 2013), ("3201", "大厂区", "六合区", 2002), ("32", "淮阴市", "淮安市", 2001),
    ("3208", "清河区", "清江浦区", 2016), ("3208", "清浦区", "清江浦区", 2016),
    ("31", "闸北区", "静安区", 2015), ("31", "卢湾区", "黄浦区", 2011), ("31", "南汇区", "浦东新区", 2009),
    ("31", "南市区", "黄浦区", 2000),
    ("11", "宣武区", "西城区", 2010), ("11", "崇文区", "东城区", 2010),
    ("12", "塘沽区", "滨海新区", 2009), ("12", "汉沽区", "滨海新区", 2009), ("12", "大港区", "滨海新区", 2009),
    ("12", "蓟县", "蓟州区", 2016),
    ("13", "唐海县", "曹妃甸区", 2012), ("1306", "新市区", "竞秀区", 2015), ("1306", "北市区", "莲池区", 2015),
    ("1306", "南市区", "莲池区", 2015),
    ("14", "大同县", "云州区", 2018), ("1402", "南郊区", "云冈区", 2018),
    ("15", "伊克昭盟", "鄂尔多斯市", 2001), ("15", "哲里木盟", "通辽市", 1999),
    ("2101", "东陵区", "浑南区", 2014), ("2101", "新城子区", "沈北新区", 2006),
    ("2301", "太平区", "道外区", 2006), ("2301", "动力区", "香坊区", 2006),
    ("50", "万盛区", "綦江区", 2011), ("50", "双桥区", "大足区", 2011), ("50", "开县", "开州区", 2016),
    ("50", "万县市", "万州区", 1998),
    ("37", "莱芜市", "济南市", 2019), ("37", "莱城区", "莱芜区", 2019), ("37", "胶南市", "黄岛区", 2012),
    ("37", "四方区", "市北区", 2012), ("3708", "市中区", "任城区", 2013), ("37", "陵县", "陵城区", 2014),
    ("34", "居巢区", "巢湖市", 2011), ("34", "金家庄区", "花山区", 2012), ("34", "铜官山区", "铜官区", 2015),
    ("34", "铜陵县", "义安区", 2015),
    ("35", "开元区", "思明区", 2003), ("35", "鼓浪屿区", "思明区", 2003),
    ("36", "庐山区", "濂溪区", 2016), ("36", "九江县", "柴桑区", 2017),
    ("44", "东山区", "越秀区", 2005), ("44", "芳村区", "荔湾区", 2005), ("44", "升平区", "金平区", 2003),
    ("44", "金园区", "金平区", 2003), ("44", "达濠区", "濠江区", 2003), ("44", "河浦区", "濠江区", 2003),
    ("4406", "城区", "禅城区", 2002), ("44", "石湾区", "禅城区", 2002), ("44", "茂港区", "电白区", 2014),
    ("41", "开封县", "祥符区", 2014), ("41", "金明区", "龙亭区", 2014), ("41", "许昌县", "建安区", 2016),
    ("41", "陕县", "陕州区", 2015),
    ("43", "芝山区", "零陵区", 2005),
    ("53", "思茅市", "普洱市", 2007), ("53", "翠云区", "思茅区", 2007), ("53", "保山市", "隆阳区", 2000),
    ("53", "昭通市", "昭阳区", 2001), ("53", "临沧县", "临翔区", 2003),
    ("52", "盘县", "盘州市", 2017), ("44", "萝岗区", "黄埔区", 2014), ("51", "郫县", "郫都区", 2016),
    ("5108", "市中区", "利州区", 2007), ("5109", "市中区", "船山区", 2003), ("51", "达县", "达川区", 2013),
    ("61", "户县", "鄠邑区", 2016), ("61", "安康市", "汉滨区", 2000), ("61", "榆林市", "榆阳区", 2000),
    ("64", "固原县", "原州区", 2001), ("64", "石嘴山区", "惠农区", 2004), ("64", "吴忠市", "利通区", 1998),
    ("64", "中卫县", "沙坡头区", 2004),
    ("52", "铜仁市", "碧江区", 2011), ("52", "小河区", "花溪区", 2012), ("52", "遵义县", "播州区", 2016),
    ("52", "毕节市", "七星关区", 2011),
    ("54", "日喀则市", "桑珠孜区", 2014), ("54", "昌都县", "卡若区", 2014), ("54", "林芝县", "巴宜区", 2015),
    ("54", "那曲县", "色尼区", 2017),
    ("62", "武威市", "凉州区", 2001), ("62", "张掖市", "甘州区", 2002), ("62", "平凉市", "崆峒区", 2002),
    ("62", "酒泉市", "肃州区", 2002), ("62", "定西县", "安定区", 2003), ("62", "秦城区", "秦州区", 2005),
    ("62", "北道区", "麦积区", 2005),
    ("65", "哈密市", "伊州区", 2016), ("6501", "东山区", "米东区", 2007), ("65", "米泉市", "米东区", 2007),
    ("65", "吐鲁番市", "高昌区", 2015),
)  # fmt: skip

_PLACEHOLDER_NAMES: Final = ("市辖区", "县", "省直辖县级行政区划")


def _current_divisions(directory: Path) -> dict[str, str]:
    """code → name for provinces, cities and counties of the division files (placeholders left out)."""
    names: dict[str, str] = {}
    for file_name in ("provinces.json", "cities.json", "counties.json"):
        names.update(json.loads((directory / file_name).read_text(encoding="utf-8")))
    return {code: name for code, name in names.items() if name not in _PLACEHOLDER_NAMES}


def _code_of(current: dict[str, str], scope: str, name: str) -> str | None:
    """The code of the one division named ``name`` under ``scope`` (a code prefix), or ``None``."""
    codes = [code for code, n in current.items() if n == name and code.startswith(scope) and code != scope]
    return codes[0] if len(codes) == 1 else None


def _jionlp_changes(path: Path) -> list[tuple[list[str], str, str]]:
    """(today's chain above, former name, current name) of each renamed division in jionlp's change list."""
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
        former, current = old_full[-1], new_full[-1]  # the division the line is about; a changed parent above
        if former != current:  # it is a transfer (公主岭市: 四平市 → 长春市), not a rename of that parent
            changes.append((new_full[:-1], former, current))
    return changes


def _scope_of(current: dict[str, str], chain: list[str]) -> str | None:
    """The code of the last division of ``chain`` (names from the province down), or ``None``."""
    scope: str | None = ""
    for name in chain:
        scope = _code_of(current, scope, name) if scope is not None else None
    return scope


def build_table(directory: Path, jionlp_file: Path | None) -> dict[str, Any]:
    """The JSON table: every change whose current division is found (uniquely) in ``directory``.

    A former name may point at several divisions (东山区: 广州 → 越秀区, 乌鲁木齐 → 米东区) and may be another
    division's name today (市中区, 桥东区): the tree takes such a name as a former name only where the written
    parents allow it and the current namesake does not fit.
    """
    current = _current_divisions(directory)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for scope, former, name, year in HAND:
        code = _code_of(current, scope, name)
        if code is not None and current.get(code) != former:
            rows[former, code] = {
                "former": former,
                "current": name,
                "code": code,
                "year": year,
                "source": "hand",
            }
    changes = _jionlp_changes(jionlp_file) if jionlp_file else []
    targets: dict[tuple[str, str], set[str]] = {}
    for chain, former, name in changes:
        targets.setdefault((former, "/".join(chain)), set()).add(name)
    for chain, former, name in changes:
        if len(targets[former, "/".join(chain)]) > 1:
            continue  # split between divisions (柳州地区 → 来宾市 and 柳州市): the name alone cannot say which
        parent = _scope_of(current, chain)
        code = _code_of(current, parent, name) if parent is not None else None
        if code is None or any(key[0] == former for key in rows if rows[key]["code"] == code):
            continue  # unknown today, or already listed
        rows[former, code] = {"former": former, "current": name, "code": code, "source": "jionlp"}
    return {
        "_about": (
            "Former names of divisions (曾用名) that residents still write, each resolved to the current division "
            "(2021 codes). Built by `python -m geoservice.gazetteer.former_divisions`: source `jionlp` = JioNLP's "
            "china_location_change.txt (Apache-2.0), `hand` = State Council approvals as published in the "
            "civil-affairs division records (民政部行政区划变更公报). A former name may point at several divisions "
            "(told apart by the written parents) and may be another division's name today (taken only where that "
            "one does not fit). An entry whose code is missing from the loaded tree or whose current name differs "
            "is skipped."
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
