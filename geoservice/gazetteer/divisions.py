"""The division tree for address resolution (地址解析用行政区划树).

Every division down to townships (乡级), plus villages and communities (村级) where they are loaded, indexed
by its full name and by its short forms, so a scan of an address finds 随州 for 随州市, 江岸 for 江岸区,
恩施 for 恩施土家族苗族自治州 and 大智 for 大智街道.

The tree is built either from the store's ``divisions`` collection (code, name, level, parent via ``ref``;
:meth:`DivisionTree.from_store`) when the service runs, or straight from the division JSON files for offline
use (:meth:`DivisionTree.from_directory`, through :func:`layers.admin.read_divisions`). Parent links come
from the records, never from the codes (docs/STANDARDS.md §1.5).

Short forms (简称) drop the generic (通名) of the level — 省/市/自治区/自治州/地区/盟/县/区/旗/街道/镇/乡/
社区/村/居委会/村委会 — and the ethnic part of an autonomous division (土家族苗族自治州). A short form must
not swallow a real name: it keeps at least two characters and may not start with a generic character or
be a generic word itself (市中区 has no short form 市中, 城区 none at all), see :func:`short_forms`. A
sub-district named after its street (万松街街道) is also written without the doubled 街 (万松街道).

Former names (曾用名): the renamed divisions of ``data/former_division_names.json`` (襄樊市 → 襄阳市, 郧县 →
郧阳区, 京山县 → 京山市 ...) are indexed as full names of the *current* division, marked ``former``, so an
address written before the rename resolves to today's code. An entry is used only when its code is in the
tree under the current name it states (a stale table never points a name at the wrong division).

Known variant spellings (异写): ``data/division_variants.json`` (广西省 → 广西壮族自治区, 内蒙, 安微省 → 安徽省) are
indexed like former names, marked ``variant``, so the parse accepts them and says so. Nothing else is guessed:
an unknown name stays unknown.

Standard variants: normalisation keeps characters of the standard table that OpenCC would simplify (谿, 昇,
於: :func:`geoservice.gazetteer.text.standard_variants`), so a name is also indexed with them (竹谿县 → 竹溪县).

Examples
--------
>>> tree = DivisionTree([Division("42", "湖北省", "province", None),
...                      Division("4201", "武汉市", "city", "42"),
...                      Division("420102", "江岸区", "county", "4201")])
>>> [d.name for d in tree.chain("420102")]
['湖北省', '武汉市', '江岸区']
>>> [(length, [e.code for e in entries]) for length, entries in tree.matches_at("江岸区大智街道", 0)]
[(3, ['420102']), (2, ['420102'])]
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal

from geoservice.gazetteer.text import standard_variants, to_halfwidth

if TYPE_CHECKING:
    import pandas as pd

    from geoservice.store import Store, Transaction

__all__ = [
    "LEVELS",
    "Division",
    "DivisionTree",
    "Level",
    "NameEntry",
    "former_names",
    "generic_of",
    "short_forms",
    "tree_for_store",
    "variant_names",
]

Level = Literal["province", "city", "county", "township", "village"]

#: Levels from the top down (省级, 地级, 县级, 乡级, 村级).
LEVELS: Final[tuple[Level, ...]] = ("province", "city", "county", "township", "village")
DEPTH: Final[dict[str, int]] = {level: depth for depth, level in enumerate(LEVELS)}

# Generics (通名) per level, longest first so 自治州 is tried before 州.
_GENERICS: Final[dict[str, tuple[str, ...]]] = {
    "province": ("特别行政区", "自治区", "省", "市"),
    "city": ("自治州", "地区", "盟", "市"),
    "county": ("自治县", "自治旗", "林区", "特区", "区", "县", "市", "旗"),
    "township": ("街道办事处", "民族乡", "街道", "苏木", "镇", "乡"),
    "village": ("社区居委会", "村民委员会", "居民委员会", "村委会", "居委会", "社区", "村"),
}

# Ethnic groups named in autonomous divisions (自治区/州/县/旗, 民族乡): the short form ends before them.
_ETHNIC: Final[tuple[str, ...]] = (
    "土家族", "苗族", "回族", "壮族", "维吾尔", "藏族", "彝族", "蒙古族", "满族", "侗族", "瑶族", "白族",
    "哈尼族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族",
    "柯尔克孜", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克", "怒族", "乌孜别克", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族",
    "京族", "塔塔尔", "独龙族", "鄂伦春", "赫哲族", "门巴族", "珞巴族", "基诺族", "哈萨克", "朝鲜族",
    "布依族", "各族", "蒙古", "黎族苗族",
)  # fmt: skip

# A short form may not start with one of these (市中区 -> 市中 would eat "武汉市中山大道").
_NO_SHORT_START: Final = frozenset("市省县区州盟旗镇乡村")
# Stems that are ordinary words of an address, not names (城关镇 -> 城关 appears in hundreds of counties).
_GENERIC_STEMS: Final = frozenset(
    {
        "城关", "城中", "城东", "城西", "城南", "城北", "城郊", "城厢", "新城", "老城", "开发", "高新",
        "经济", "中心", "市区", "郊区", "矿区", "新区", "东区", "西区", "南区", "北区", "中区", "街道",
        "社区", "居委", "村委", "工业", "园区", "农场", "林场", "茶场", "渔场", "良种",
    }
)  # fmt: skip


# The committee (委员会) generics' own short forms.
_COMMITTEE_SHORT: Final = {"村民委员会": "村委会", "居民委员会": "居委会"}

# Township generics a town changes between (撤镇设街道, 撤乡设镇): 城厢镇 is today 城厢街道.
_RETYPED_GENERICS: Final = ("街道", "镇", "乡")

_ROAD_ENDINGS: Final = ("路", "街", "大道", "巷", "胡同", "弄", "里", "道")


@dataclass(frozen=True, slots=True)
class Division:
    """One division (行政区划): code, standard name, level and the real parent's code."""

    code: str
    name: str
    level: Level
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class NameEntry:
    """One way of writing a division's name: the division, whether this is its full name (全称), whether it is
    a former name (曾用名) of that division, whether it is a known variant spelling (异写), and whether it is the
    name with another generic of its level (城厢镇 for 城厢街道: a former type, 撤镇设街道)."""

    code: str
    level: Level
    full: bool
    former: bool = False
    variant: bool = False
    retyped: bool = False


@cache
def former_names() -> tuple[tuple[str, str, str], ...]:
    """The renamed divisions shipped in ``data/former_division_names.json``: (former, current, code).

    Examples
    --------
    >>> ("襄樊市", "襄阳市", "4206") in former_names()
    True
    """
    text = (
        resources.files("geoservice.gazetteer").joinpath("data/former_division_names.json").read_text("utf-8")
    )
    return tuple((r["former"], r["current"], r["code"]) for r in json.loads(text)["renames"])


@cache
def variant_names() -> tuple[tuple[str, str], ...]:
    """The known variant spellings shipped in ``data/division_variants.json``: (variant, code).

    Examples
    --------
    >>> ("广西省", "45") in variant_names()
    True
    """
    text = resources.files("geoservice.gazetteer").joinpath("data/division_variants.json").read_text("utf-8")
    return tuple((r["variant"], r["code"]) for r in json.loads(text)["variants"])


def generic_of(name: str, level: str) -> str:
    """The generic (通名) that ``name`` ends with at ``level``, or ``""``.

    Examples
    --------
    >>> generic_of("良渚街道", "township"), generic_of("萧山区", "county"), generic_of("城区", "province")
    ('街道', '区', '')
    """
    return next((g for g in _GENERICS.get(level, ()) if name.endswith(g) and len(name) > len(g)), "")


def short_forms(name: str, level: str) -> list[str]:
    """The short forms (简称) of a division name at ``level``, without the name itself.

    Parameters
    ----------
    name
        The standard name, e.g. ``恩施土家族苗族自治州``.
    level
        ``province``, ``city``, ``county``, ``township`` or ``village``.

    Returns
    -------
    list of str
        The stem without the generic; for an autonomous division also the stem before the ethnic part
        and that stem with the level's character (恩施州, 长阳县).

    Examples
    --------
    >>> short_forms("恩施土家族苗族自治州", "city"), short_forms("江岸区", "county")
    (['恩施', '恩施州'], ['江岸'])
    >>> short_forms("市中区", "county"), short_forms("城区", "county"), short_forms("城关镇", "township")
    ([], [], [])
    >>> short_forms("广西壮族自治区", "province"), short_forms("神农架林区", "county")
    (['广西'], ['神农架'])
    >>> short_forms("白桃村委会", "village"), short_forms("乌龙巷居委会（社区）", "village")
    (['白桃村', '白桃'], ['乌龙巷社区', '乌龙巷居委会'])
    >>> short_forms("星光村村委会", "village"), short_forms("白桃村民委员会", "village")
    (['星光村村', '星光村委会', '星光村'], ['白桃村', '白桃村委会', '白桃'])
    >>> short_forms("花楼街街道", "township"), short_forms("旧街街道", "township")
    (['花楼街道'], [])
    """
    original = name
    stems: list[str] = []
    everyday: list[str] = []
    for mark in ("（", "("):  # 乌龙巷居委会（社区）: the bracketed note is not part of the name
        if mark in name and name.endswith(("）", ")")):
            name = name[: name.index(mark)]
            stems.append(name)
    for generic in _GENERICS.get(level, ()):
        if name.endswith(generic) and len(name) > len(generic):
            stems.append(name[: -len(generic)])
            if level == "village" and len(generic) > 2:
                # 白桃村委会 is written 白桃村, 前进居委会 is written 前进社区
                base = name[: -len(generic)]
                everyday.append(base + ("村" if "村" in generic else "社区"))
                if "村" in generic and base.endswith("村"):
                    everyday.append(base[:-1] + "村委会")  # 星光村村委会 is also written 星光村委会
                if generic in _COMMITTEE_SHORT:  # 白桃村民委员会 is also written 白桃村委会
                    everyday.append(base + _COMMITTEE_SHORT[generic])
            break
    if "自治" in name or (level == "township" and name.endswith(("族乡", "族镇"))):  # 于家务回族乡 → 于家务
        cut = min((i for i in (name.find(e) for e in _ETHNIC) if i > 0), default=-1)
        if cut > 0:
            stems = [name[:cut]]  # 恩施土家族苗族 (the name less its generic) is written by nobody
            if name[-1] in "州县旗":
                stems.append(name[:cut] + name[-1])  # 恩施州, 长阳县: the everyday written form
    result: list[str] = [form for form in everyday if len(form) >= 3]
    if level == "township" and name.endswith("街街道") and len(name) >= 5:
        result.append(name[:-3] + "街道")  # 万松街街道 is written 万松街道 (the stem 万松街 is a road's name)
    if level == "township" and name.endswith("新镇") and len(name) >= 4:
        stems.append(name[:-2])  # 川沙新镇 (川沙 and 城镇 merged) is written 川沙
    for stem in stems:
        if (
            len(stem) >= 2
            and stem != original
            and stem[0] not in _NO_SHORT_START
            and stem not in _GENERIC_STEMS
            # 中南路街道 -> 中南路 is the road, not the township; but 同里镇 -> 同里 is the town
            and not (
                stem.endswith(_ROAD_ENDINGS) and not (stem[-1] in "里道" and original.endswith(("镇", "乡")))
            )
            and stem not in result
        ):
            result.append(stem)
    return result


class DivisionTree:
    """Divisions with parent links and a name index for maximal-munch scanning (最长匹配).

    Parameters
    ----------
    divisions
        Every division; parents must be among them (a division whose parent is missing becomes a root).
    former
        Index the former names of :func:`former_names` (those whose code and current name are in the tree).
    """

    def __init__(self, divisions: Iterable[Division], *, former: bool = True) -> None:
        self._by_code: dict[str, Division] = {}
        for division in divisions:
            if division.name:
                self._by_code[division.code] = division
        names: dict[str, list[NameEntry]] = {}
        for division in self._by_code.values():
            names.setdefault(division.name, []).append(NameEntry(division.code, division.level, True))
            written = to_halfwidth(
                division.name
            )  # addresses are normalised: 五祖寺（挪步园）→ 五祖寺(挪步园)
            if written != division.name:
                names.setdefault(written, []).append(NameEntry(division.code, division.level, True))
            for short in short_forms(division.name, division.level):
                names.setdefault(short, []).append(NameEntry(division.code, division.level, False))
        # Former names and variants that are some other division's name today (铜仁市 the county, now 碧江区;
        # 黄埔区 written for 上海 黄浦区): taken only where the regular name does not fit the context.
        self._context_names: dict[str, tuple[NameEntry, ...]] = {}
        current_names = set(names)
        for former_name, current, code in former_names() if former else ():
            renamed = self._by_code.get(code)
            if renamed is None or renamed.name != current:
                continue
            entry = NameEntry(code, renamed.level, True, former=True)
            if former_name in current_names:  # 市中区 (济宁 → 任城区): only where the current ones do not fit
                self._context_names[former_name] = (*self._context_names.get(former_name, ()), entry)
                continue
            names.setdefault(former_name, []).append(entry)  # 东山区: 广州 → 越秀区, 乌鲁木齐 → 米东区
            for short in short_forms(former_name, renamed.level):
                if short not in current_names:  # 襄樊 yes; 京山 (already 京山市's short form) stays as it is
                    names.setdefault(short, []).append(NameEntry(code, renamed.level, False, former=True))
        for variant, code in variant_names() if former else ():
            spelt = self._by_code.get(code)
            if spelt is None:
                continue
            entry = NameEntry(code, spelt.level, True, variant=True)
            if variant in names:  # a real name elsewhere is never shadowed: only where it does not fit
                self._context_names[variant] = (*self._context_names.get(variant, ()), entry)
            else:
                names[variant] = [entry]
        for division in self._by_code.values():
            if division.level == "township":
                self._add_retyped(division)
        variants = standard_variants()
        for key in [k for k in names if not variants.keys().isdisjoint(k)]:
            # 竹溪县 is also written 竹谿县: 谿 is a standard character the normalisation keeps
            for char in set(key) & variants.keys():
                for variant in variants[char]:
                    names.setdefault(key.replace(char, variant), names[key])
        self._names: dict[str, tuple[NameEntry, ...]] = {
            # full names before short forms, shallow levels first: the order candidates are reported in
            key: tuple(sorted(entries, key=lambda e: (not e.full, DEPTH[e.level], e.code)))
            for key, entries in names.items()
        }
        # A dict-based trie: every prefix of every indexed name maps to the entries of the name it
        # completes (or None), so a scan walks one character at a time and stops at the first dead prefix.
        trie: dict[str, tuple[NameEntry, ...] | None] = {}
        for key, key_entries in self._names.items():
            for end in range(1, len(key)):
                trie.setdefault(key[:end], None)
            trie[key] = key_entries
        self._trie = trie
        self._chains: dict[str, tuple[str, ...]] = {}
        self._levels: dict[str, dict[str, str]] = {}

    def _add_retyped(self, township: Division) -> None:
        """城厢街道 was 城厢镇: its name with another generic of the level, where the stem has no short form to
        carry one (城厢, 城关 are everyday words), taken only in context (only where no current name fits)."""
        generic = generic_of(township.name, "township")
        if generic not in _RETYPED_GENERICS:
            return
        stem = township.name[: -len(generic)]
        if stem in short_forms(township.name, "township"):
            return  # 良渚镇: the short form 良渚 takes any generic already (a former type)
        for other in _RETYPED_GENERICS:
            if other != generic:
                entry = NameEntry(township.code, "township", True, retyped=True)
                self._context_names[stem + other] = (*self._context_names.get(stem + other, ()), entry)

    # -- constructors -----------------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> DivisionTree:
        """A tree from :func:`layers.admin.read_divisions` rows (code, name, level, parent_code)."""
        divisions = []
        for code, name, level, parent in zip(
            frame["code"], frame["name"], frame["level"], frame["parent_code"], strict=True
        ):
            if isinstance(name, str) and name:
                parent_code = parent if isinstance(parent, str) and parent else None
                divisions.append(Division(str(code), name, level, parent_code))
        return cls(divisions)

    @classmethod
    def from_directory(cls, directory: str | Path, *, villages: bool | Iterable[str] = True) -> DivisionTree:
        """A tree straight from the division JSON files (offline use; ``villages`` as in ``read_divisions``)."""
        from layers.admin import read_divisions

        return cls.from_frame(read_divisions(directory, villages=villages))

    @classmethod
    def from_store(cls, store: Store) -> DivisionTree:
        """A tree from the store's ``divisions`` collection (properties code, name, level, parent_code)."""
        from layers.admin import level_of

        divisions = []
        with store.transaction(readonly=True) as tx:
            for feature in tx.iter_features("divisions"):
                props = feature.properties
                code, name = props.get("code"), props.get("name")
                if not code or not name:
                    continue
                level = props.get("level")
                if level not in DEPTH:
                    level = level_of(str(code))
                divisions.append(Division(str(code), str(name), level, props.get("parent_code") or None))
        return cls(divisions)

    # -- lookups ----------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Division]:
        return iter(self._by_code.values())

    def get(self, code: str) -> Division | None:
        """The division with ``code``, or ``None``."""
        return self._by_code.get(code)

    def lookup(self, name: str) -> tuple[NameEntry, ...]:
        """Every division written ``name`` (full name or short form), full names first."""
        return self._names.get(name, ())

    def chain_codes(self, code: str) -> tuple[str, ...]:
        """Codes from the top (province) down to ``code`` itself, following stored parent links."""
        cached = self._chains.get(code)
        if cached is not None:
            return cached
        division = self._by_code.get(code)
        if division is None:
            return ()
        parent = division.parent_code
        chain = (*self.chain_codes(parent), code) if parent and parent in self._by_code else (code,)
        self._chains[code] = chain
        return chain

    def chain_by_level(self, code: str) -> dict[str, str]:
        """The chain of ``code`` as level → code (a county directly under a province has no ``city``)."""
        cached = self._levels.get(code)
        if cached is None:
            cached = {self._by_code[c].level: c for c in self.chain_codes(code)}
            self._levels[code] = cached
        return cached

    def chain(self, code: str) -> list[Division]:
        """The divisions from the province down to ``code`` (行政区划链)."""
        return [self._by_code[c] for c in self.chain_codes(code)]

    def chain_text(self, code: str) -> str:
        """The names of the chain joined, e.g. ``湖北省武汉市江岸区``."""
        return "".join(d.name for d in self.chain(code))

    def is_ancestor(self, ancestor: str, code: str) -> bool:
        """True when ``ancestor`` is on the chain of ``code`` (and is not ``code`` itself)."""
        chain = self.chain_codes(code)
        return ancestor in chain and chain[-1] != ancestor

    def matches_at(self, text: str, start: int) -> list[tuple[int, tuple[NameEntry, ...]]]:
        """Every indexed name that ``text`` holds at ``start``, longest first: (length, entries)."""
        trie = self._trie
        found: list[tuple[int, tuple[NameEntry, ...]]] = []
        end = start + 1
        limit = len(text)
        while end <= limit:
            key = text[start:end]
            if key not in trie:
                break
            entries = trie[key]
            if entries:
                found.append((end - start, entries))
            end += 1
        found.reverse()
        return found

    def context_matches_at(self, text: str, start: int) -> list[tuple[int, tuple[NameEntry, ...]]]:
        """Former names and variants that are another division's name today, found at ``start``, longest first."""
        found = []
        for length in self._context_lengths:
            entries = self._context_names.get(text[start : start + length])
            if entries:
                found.append((length, entries))
        return found

    @cached_property
    def _context_lengths(self) -> list[int]:
        return sorted({len(name) for name in self._context_names}, reverse=True)

    @cached_property
    def max_name_length(self) -> int:
        """The longest indexed name, in characters."""
        return max((len(k) for k in self._names), default=0)


# -- one tree per store, rebuilt when its divisions change ------------------------------------------------
_cache: dict[str, tuple[object, DivisionTree]] = {}
_cache_lock = threading.Lock()
_CACHE_SIZE: Final = 4


def tree_for_store(store: Store, tx: Transaction | None = None) -> DivisionTree:
    """The division tree of ``store``, built once and rebuilt after any change to its divisions.

    The signature of the divisions is the newest audit row of the collection (every write leaves one), so
    a cached tree is never stale and costs one indexed query per call — through ``tx`` when given (a
    writer holding a lock must not wait for a second pooled connection).
    """
    with nullcontext(tx) if tx is not None else store.transaction(readonly=True) as reader:
        newest = reader.audit_log(limit=1, collection="divisions")
        signature: object = (newest[0].seq, newest[0].at) if newest else None
    key = f"{store.url}#{id(store)}"
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == signature:
            return hit[1]
    tree = DivisionTree.from_store(store)
    with _cache_lock:
        _cache[key] = (signature, tree)
        while len(_cache) > _CACHE_SIZE:  # a full tree is ~50 MB: keep the few stores in use
            _cache.pop(next(iter(_cache)))
    return tree
