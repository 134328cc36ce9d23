"""The street-level part of an address (街路巷及门牌): road, door number, building / unit / room, POI.

What comes after the divisions, as people write it:

- **road** (街路巷): the shortest run ending in a road generic (路 街 大道 巷 胡同 弄 里 道) that is not itself
  followed by another generic (万里路 is one road); a numbered road (``21号大街``, ``3号路``); a development zone
  before it (东湖新技术开发区光谷大道) is no division and is left out; a section (段) belongs to the road
  (``一环路南三段``, ``中山路中段``), and so does a direction before the number (``花地大道南68号``); a lane
  ``宽巷子``, a numbered hutong ``东四十条``, a pedestrian street ``南京东路步行街`` and a square before its number
  ``高笋塘广场1号`` are roads. A villagers' group (村民小组: ``三组``, ``2组``, ``第3村民小组``) is the street-level
  part of a village address and stands in the road's place, as written (a standard address does not rewrite a
  name; :func:`geoservice.gazetteer.addresses.parse_address` gives it back with the writer's numerals).
- **number** (门牌号), normalised to end in 号 where the writer left it off: ``88号``; ``体育场路824`` → ``824号``;
  lanes (弄 / 巷) kept in front: ``169弄47号``, ``12巷3号``; suffixes kept: ``12-1号``, ``12号之一``, ``甲12号``,
  ``101甲`` → ``101甲号``, ``101号甲``, ``188号附3号``; ranges ``56-58号`` (``28~30号``, ``56至58号`` → ``28-30号``).
- **building / unit / room** (楼栋 单元 室): ``3栋2单元501室``, ``3号楼``, ``A座1201``, ``7#楼``, ``5-2-301`` and
  ``7-9-1161`` (building-unit-room), as bare identifiers.
- **poi** (兴趣点): the text left before a building part or after the number.

Examples
--------
>>> parts: dict = {}
>>> parse_street("体育场路824", parts, []); parts
{'road': '体育场路', 'number': '824号'}
>>> parts = {}
>>> parse_street("长乐路169弄47号", parts, []); parts
{'road': '长乐路', 'number': '169弄47号'}
>>> parts = {}
>>> parse_street("3组12号", parts, []); parts
{'road': '3组', 'number': '12号'}
>>> parts = {}
>>> parse_street("人民路7-9-1161", parts, []); parts
{'road': '人民路', 'building': '7', 'unit': '9', 'room': '1161'}
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["parse_street"]

_ROAD: Final = re.compile(
    r"(?P<road>[^\d\s,，]{1,24}?(?:大道|大街|胡同|路|街(?!道)|巷子|巷|弄|里|道|广场(?=\d)|[一二三四五六七八九十]+条))"
    r"(?![路街巷弄里道]|大道|大街|胡同|步行街|[东南西北中]?[一二三四五六七八九十]+[路街巷])"
)
# The same with the strong generics only: 里, 道 and 弄 also end ordinary words (同里湖路, 八里庄路, 道口), so a
# road ending in 路 / 街 / 大道 / 大街 / 巷 / 胡同 before the number wins over one ending in them.
_STRONG_ROAD: Final = re.compile(
    r"(?P<road>[^\d\s,，]{1,24}?(?:大道|大街|胡同|路|街(?!道)|巷子|巷))"
    r"(?![路街巷弄里道]|大道|大街|胡同|步行街|[东南西北中]?[一二三四五六七八九十]+[路街巷])"
)
# A numbered road: 21号大街, 3号路, 8号街 (not 3号楼, not a door number followed by 街道).
_NUMBERED_ROAD: Final = re.compile(r"(?P<road>[^\d\s,，]{0,8}?\d+号?(?:大街|大道|路|街(?!道)))")
# Zones that are not divisions (开发区, 新区, 风景区 ...) and may come before a road name.
_ZONE: Final = re.compile(
    r".{2,16}?(?:开发区|高新区|新区|工业园区|产业园区|园区|风景区|风景名胜区|管理区|保税区)"
)
# A word written as a county that the scan did not know (桥口区, 黄坡区), before the road's own name; not 县府路.
_UNKNOWN_COUNTY: Final = re.compile(r"[\u4e00-\u9fff]{2,3}[区县](?![府政前后])")
# Villagers' group (村民小组), with an unresolved village's name before it (淤头村2组).
_GROUP: Final = re.compile(
    r"(?P<village>[^\d]{1,10}?村)?第?(?P<group>\d+|[一二三四五六七八九十]+)(?:村民小组|村民组|小组|组|队)(?![栋幢座楼单室])"
)
# Lane (弄 / 巷) before a door number: 169弄47号, 12巷3号.
_LANE: Final = re.compile(r"(?P<lane>\d+[弄巷])(?![弄巷路街])")
_SUFFIX_NUMERAL: Final = "[一二三四五六七八九十0-9]+"
# Door number (门牌号) with its suffix (附号); 号 may be missing (824, 101甲); never 3号楼, 3栋, 7-9-1161, 100米.
_NUMBER: Final = re.compile(
    rf"(?P<number>[甲乙丙丁附]?\d+(?:-\d+)?号(?:之{_SUFFIX_NUMERAL}|附\d+号?|[甲乙丙丁](?![楼栋座幢单区号]))?)(?![楼房院])"
    rf"|(?P<bare>[甲乙丙丁附]?\d+(?:-\d+)?(?:[甲乙丙丁]|之{_SUFFIX_NUMERAL})?)"
    r"(?![\d号楼房栋幢座单室层户米#A-Za-z]|-\d)"
)
# Building / unit / room (楼栋 单元 室): 3栋2单元501室, 3号楼2单元501, A座1201, 5-2-301, 3栋501室.
_BUILDING_UNIT_ROOM: Final = re.compile(
    r"(?:(?P<b1>\d+|[A-Za-z]\d*)(?:栋|幢|号楼|座|#楼|#|号院)"
    r"(?:(?P<u1>\d+)单元)?(?:(?P<r1>\d+)(?:室|号房|房|户|号)?)?"
    r"|(?P<u2>\d+)单元(?:(?P<r2>\d+)(?:室|号房|房|户|号)?)?"
    r"|(?P<b3>\d+)-(?P<u3>\d+)-(?P<r3>\d+)(?:室|号)?"
    r"|(?P<r4>\d+)(?:室|号房))"
)
# A range of plates written with another dash or 至 (28~30号, 56至58号, 100—102号) → 28-30号.
_RANGE: Final = re.compile(r"(?<=\d)\s*(?:~|～|至|—|–|－|－)\s*(?=\d+号)")
# A road's section (段) after its name: 一环路南三段, 人民南路四段.
_SECTION: Final = re.compile(
    r"(?:[东南西北中](?:\d+|[一二三四五六七八九十]+)?|\d+|[一二三四五六七八九十]+)段"
)
# A direction after a road's name and before its number: 花地大道南68号, 江南大道中180号.
_DIRECTION_BEFORE_NUMBER: Final = re.compile(r"[东南西北中](?=[甲乙丙丁附]?\d)")
_DROPPED_CHARS: Final = frozenset(" ,，、;；")
_LEADING_DEBRIS: Final = "-_—–·.>|/\\"


def _road(rest: str, components: dict[str, Any], unresolved: list[str]) -> str:
    """Take the road (or a villagers' group standing in its place) from the start of ``rest``."""
    match = _ROAD.match(rest) or _NUMBERED_ROAD.match(rest)
    if match and match.group("road")[-1] in "里道弄" and not match.group("road").endswith("大道"):
        match = _STRONG_ROAD.match(rest) or match
    if match:
        road = match.group("road")
        zone = _ZONE.match(road)
        if zone and len(road) - zone.end() >= 2:
            # 东湖新技术开发区光谷大道: a development zone is no division of the statistical tree; the road follows it
            unresolved.append(zone.group(0))
            road = road[zone.end() :]
        unknown = _UNKNOWN_COUNTY.match(road)
        if unknown and len(road) - unknown.end() >= 3:
            # 桥口区古田二路: a county the division tree does not hold (a misspelling) is no part of the road
            unresolved.append(unknown.group(0))
            road = road[unknown.end() :]
        rest = rest[match.end() :]
        section = _SECTION.match(rest) or _DIRECTION_BEFORE_NUMBER.match(rest)
        if section:
            road += section.group(0)
            rest = rest[section.end() :]
        components["road"] = road
        return rest.lstrip(_LEADING_DEBRIS)
    group = _GROUP.match(rest)
    if group:
        if group.group("village"):
            unresolved.append(group.group("village"))  # a village the tree does not hold: not guessed
        # the group as written (三组, 第3村民小组): a standard address does not rewrite a name
        components["road"] = group.group(0)[len(group.group("village") or "") :]
        return rest[group.end() :].lstrip(_LEADING_DEBRIS)
    return rest


def _number(rest: str, components: dict[str, Any]) -> str:
    """Take the door number (with a lane before it) from the start of ``rest``."""
    lane = _LANE.match(rest)
    prefix = ""
    if lane:
        prefix = lane.group("lane")
        rest = rest[lane.end() :]
    match = _NUMBER.match(rest)
    if match and (match.group("number") or "road" in components or prefix):
        components["number"] = prefix + (match.group("number") or match.group("bare") + "号")
        return rest[match.end() :]
    if prefix:
        components["number"] = prefix
    return rest


def parse_street(rest: str, components: dict[str, Any], unresolved: list[str]) -> None:
    """Road, door number, building / unit / room and the POI from the text after the divisions.

    Parameters
    ----------
    rest
        The normalised text after the last division name.
    components
        Filled in place with ``road``, ``number``, ``building``, ``unit``, ``room``, ``poi``.
    unresolved
        Text attributed to no component is appended (a development zone, a village not in the tree).
    """
    rest = "".join(ch for ch in rest if ch not in _DROPPED_CHARS).lstrip(_LEADING_DEBRIS)
    if "号" in rest:
        rest = _RANGE.sub("-", rest)
    if not rest:
        return
    rest = _road(rest, components, unresolved)
    rest = _number(rest, components)
    match = _BUILDING_UNIT_ROOM.search(rest)
    before, after = rest, ""
    if match:
        groups = match.groupdict()
        building = groups["b1"] or groups["b3"]
        unit = groups["u1"] or groups["u2"] or groups["u3"]
        room = groups["r1"] or groups["r2"] or groups["r3"] or groups["r4"]
        for name, value in (("building", building), ("unit", unit), ("room", room)):
            if value:
                components[name] = value
        before, after = rest[: match.start()], rest[match.end() :]
    before = before.strip(_LEADING_DEBRIS)
    if before:
        components["poi"] = before
    if after:
        if "poi" in components:
            unresolved.append(after)
        else:
            components["poi"] = after
