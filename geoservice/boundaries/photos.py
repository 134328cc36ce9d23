"""Inspection photos (检查照片): size-limited uploads stored by SHA-256 checksum.

A photo is written once under ``photo_dir/<first two hex digits>/<sha256>.<ext>``: the same picture sent twice
(a retried upload, a field package re-imported) is stored once. The inspection keeps the checksum, the original
file name, the size and the stored path; the photo itself is never edited.

Upload choice: multipart ``POST /boundaries/inspections/{id}/photos`` (one or more ``file`` parts), so a phone
streams the JPEG as it is, with no base64 inflation (+33 %) in a JSON body.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from geoservice.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
from geoservice.store import Feature, Store

# Magic numbers of the picture formats phones and cameras write.
_SIGNATURES: Final[tuple[tuple[bytes, int, str], ...]] = (
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"WEBP", 8, "webp"),
    (b"ftypheic", 4, "heic"),
    (b"ftypheix", 4, "heic"),
    (b"ftypmif1", 4, "heic"),
)
_CHUNK_BYTES: Final = 1024 * 1024


@dataclass(frozen=True)
class StoredPhoto:
    """A stored photo: checksum (校验值), original name, size in bytes, format and path under ``photo_dir``."""

    sha256: str
    name: str
    size_bytes: int
    format: str
    path: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def photo_format(head: bytes) -> str | None:
    """The picture format of a file from its first bytes, or None if it is not a JPEG / PNG / WebP / HEIC.

    Examples
    --------
    >>> photo_format(b"\\xff\\xd8\\xff\\xe0" + bytes(12)), photo_format(b"%PDF-1.7")
    ('jpg', None)
    """
    for magic, offset, fmt in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return fmt
    return None


def _too_large(name: str, size: int, max_bytes: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"照片 {name} 超过 {max_bytes // (1024 * 1024)} MB 上限(至少 {size} 字节)/ photo {name!r} is over the "
        f"{max_bytes} byte limit (max_photo_bytes, {max_bytes / 1048576:.0f} MiB): at least {size} bytes; "
        "resize or recompress it on the phone and upload again",
        field="file",
        value=name,
        rule="max_photo_bytes",
        details={"limit_bytes": max_bytes, "size_bytes": size},
    )


def store_photo(stream: BinaryIO, name: str, *, photo_dir: Path, max_bytes: int) -> StoredPhoto:
    """Copy a photo into ``photo_dir`` under its SHA-256, reading at most ``max_bytes`` + 1 bytes.

    Raises
    ------
    PayloadTooLargeError
        Over ``max_bytes`` (413, naming the limit); nothing is kept.
    InvalidInputError
        Empty, or not a JPEG / PNG / WebP / HEIC picture.
    """
    photo_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    head = b""
    fd, tmp_name = tempfile.mkstemp(dir=photo_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(_CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise _too_large(name, size, max_bytes)
                if len(head) < 16:
                    head += chunk[: 16 - len(head)]
                digest.update(chunk)
                out.write(chunk)
        fmt = photo_format(head)
        if size == 0 or fmt is None:
            raise InvalidInputError(
                f"照片 {name} 不是 JPEG/PNG/WebP/HEIC 图片 / {name!r} is not a JPEG, PNG, WebP or HEIC picture"
                + (" (empty file)" if size == 0 else ""),
                field="file",
                value=name,
                rule="image_format",
            )
        sha = digest.hexdigest()
        relative = Path(sha[:2]) / f"{sha}.{fmt}"
        target = photo_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
        return StoredPhoto(sha256=sha, name=Path(name).name, size_bytes=size, format=fmt, path=str(relative))
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def attach_photos(
    store: Store,
    collection: str,
    inspection_id: str,
    uploads: Sequence[tuple[BinaryIO, str]],
    *,
    photo_dir: Path,
    max_bytes: int,
    user: str | None,
) -> Feature:
    """Store uploaded photos and add them to an inspection of ``collection`` (界桩 or 标志检查记录), once each.

    The inspection's other fields never change; a photo already attached (same SHA-256) is not added again.

    Raises
    ------
    NotFoundError
        (404) no inspection ``inspection_id`` — checked before anything is stored.
    PayloadTooLargeError, InvalidInputError
        As :func:`store_photo`.
    """
    with store.transaction(readonly=True) as tx:
        if tx.find(collection, inspection_id) is None:
            raise NotFoundError(
                f"没有检查记录 {inspection_id!r} / no inspection {inspection_id!r}",
                field="id",
                value=inspection_id,
            )
    stored = [
        store_photo(stream, name or "photo", photo_dir=photo_dir, max_bytes=max_bytes).as_dict()
        for stream, name in uploads
    ]
    with store.transaction(user=user) as tx:
        current = tx.get(collection, inspection_id)
        photos = list(current.properties.get("photos") or [])
        known = {p.get("sha256") for p in photos}
        for photo in stored:
            if photo["sha256"] not in known:
                known.add(photo["sha256"])
                photos.append(photo)
        return tx.update(collection, inspection_id, properties={"photos": photos}, action="attach_photo")
