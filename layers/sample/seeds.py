"""Seeds and stable identifiers of the sample (随机种子与稳定标识): one seed, one generator per stage."""

from __future__ import annotations

import uuid
import zlib
from typing import Final

import numpy as np

SEED: Final = 20201101
"""Seed of every random choice (the census reference day, 2020-11-01)."""

SAMPLE_NAMESPACE: Final = uuid.UUID("6f1d6c2e-4b1e-5a8e-9a57-2f0a5c7d4201")
"""Namespace of the sample's UUIDs: ``uuid5(SAMPLE_NAMESPACE, natural key)`` (稳定标识)."""


def sample_uuid(key: str) -> str:
    """Stable UUID of a sample record (稳定标识): ``uuid5(SAMPLE_NAMESPACE, key)``.

    Examples
    --------
    >>> sample_uuid("district:420102") == sample_uuid("district:420102")
    True
    >>> len(sample_uuid("x"))
    36
    """
    return str(uuid.uuid5(SAMPLE_NAMESPACE, key))


def stage_rng(seed: int, stage: str) -> np.random.Generator:
    """One generator per stage, so a change in one stage leaves the others' draws unchanged."""
    return np.random.default_rng([seed, zlib.crc32(stage.encode("utf-8"))])
