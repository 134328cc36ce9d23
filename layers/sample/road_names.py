"""Road names (道路名称) of the sample: 专名 + 通名, unique in the city, no homophones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
from pypinyin import lazy_pinyin

if TYPE_CHECKING:
    from layers.sample.roads import Road


_NAME_FIRST: Final = "东西南北中新和兴安康宁永长福建江湖丰顺青民利广华文明仁育德同惠嘉瑞祥盛荣泰富乐金银玉翠碧云凤龙鹤松竹梅兰菊桃杏槐樟柏"
_NAME_SECOND: Final = "园林湾桥港城塘岭堤坪洲阳苑岗台湖山河泉坊庄亭溪渡埠店桂柳杨枫"
ORDINALS: Final = "一二三四五六七八九十"
ARTERIAL_SPECIFICS: Final = (
    "解放",
    "建设",
    "友谊",
    "发展",
    "复兴",
    "光明",
    "振兴",
    "长江",
    "汉江",
    "楚天",
    "荆楚",
    "云梦",
    "黄鹤",
    "晴川",
    "东湖",
    "南湖",
)


def township_specific(name: str) -> str | None:
    """专名 of a township for a road series (大智街道 → 大智, 中华路街道 → 中华), None if unusable."""
    text = name
    for suffix in ("街道", "办事处", "镇", "乡", "街", "路"):
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
    if not 2 <= len(text) <= 3 or any(ch in text for ch in "（）()区园场司处会心"):
        return None
    return text


class RoadNamer:
    """Hands out unique road names; every 专名 is used once (a numbered series counts as one use).

    Names are also kept apart by toneless pinyin, so no two roads are homophones (同音, docs/STANDARDS.md §1.2).
    """

    def __init__(self, rng: np.random.Generator, taken: Iterable[Road] = ()) -> None:
        pool = [a + b for a in _NAME_FIRST for b in _NAME_SECOND if a != b]
        order = rng.permutation(len(pool))
        self._pool = [pool[i] for i in order]
        self._next = 0
        self._used_specifics: set[str] = set()
        self._used_pinyin: set[str] = set()
        self.names: set[str] = set()
        for road in taken:
            self._used_specifics.add(road.specific)
            self._used_pinyin.add(self._pinyin(road.name))
            self.names.add(road.name)

    @staticmethod
    def _pinyin(name: str) -> str:
        return "".join(lazy_pinyin(name))

    def _try(self, specific: str, names: Sequence[str]) -> bool:
        keys = [self._pinyin(n) for n in names]
        if (
            specific in self._used_specifics
            or any(k in self._used_pinyin for k in keys)
            or len(set(keys)) < len(keys)
            or any(n in self.names for n in names)
        ):
            return False
        self._used_specifics.add(specific)
        self._used_pinyin.update(keys)
        self.names.update(names)
        return True

    def series(self, generic: str, count: int, preferred: str | None = None) -> tuple[str, list[str]]:
        """A 专名 and ``count`` names: one plain name, or a numbered series (中山一路, 中山二路 …)."""

        def make(specific: str) -> list[str]:
            if count == 1:
                return [specific + generic]
            return [f"{specific}{ORDINALS[i]}{generic}" for i in range(count)]

        if preferred and self._try(preferred, make(preferred)):
            return preferred, make(preferred)
        while self._next < len(self._pool):
            specific = self._pool[self._next]
            self._next += 1
            if self._try(specific, make(specific)):
                return specific, make(specific)
        raise RuntimeError("道路名称池用尽 / road-name pool exhausted")  # pragma: no cover
