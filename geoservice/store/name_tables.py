"""The persisted name indexes (持久化地名索引): tables the name check and search query directly.

Three tables, kept in step with ``place_names`` and ``name_alternates`` by every write of a
:class:`~geoservice.store.transaction.Transaction` (in the same transaction, whoever writes), so every worker
of a server sees a registration the moment it commits and nothing is built when a server starts:

============== ==================================================================================
table          rows
============== ==================================================================================
name_keys      one per place name but refused ones: scope, comparison form, pinyin, initials, stem,
               status … indexed by (scope, comparison), (scope, pinyin), (scope, stem) for the check
               and by comparison, pinyin and initials for search (prefix ranges in code-point order;
               since migration 9 these cover every column a search reads, so a range reads no row)
name_former    one per former name (曾用名, ``name_alternates`` of kind ``historic``): its text,
               pinyin and initials, and the place name it points to
name_grams     (gram, ref): character bigrams and gapped bigrams of every entry (fuzzy search);
               ``ref`` is the place name's ``fid``, or minus the former name's ``fid``
============== ==================================================================================

``name_gram_counts`` holds each gram's posting count as of the last full build (the fuzzy search skips the
commonest grams), and ``name_index_state`` the format the tables were built in and whether they are complete
(a database that held names before the tables existed says ``missing`` until ``geoservice names reindex``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

from geoservice.store import write_hooks
from geoservice.store.dialect import Backend
from geoservice.store.records import Feature, utc_now
from geoservice.store.write_hooks import Write, WriteHook

if TYPE_CHECKING:
    from geoservice.store.transaction import Transaction

__all__ = [
    "ENTRY_COLUMNS",
    "FORMAT",
    "NAME_COLLECTIONS",
    "after_write",
    "clear",
    "clear_counts",
    "covering_ddl",
    "ddl",
    "entries_by_refs",
    "exact_entries",
    "gram_candidates",
    "gram_counts",
    "grams_of",
    "index_state",
    "key_indexes",
    "keys_where",
    "mark_built",
    "prefix_entries",
    "register_former_keys",
    "write_former",
    "write_names",
]

#: The layout of the tables and grams this code writes; a database built in another format is refused.
FORMAT: Final = 1
#: The schema version (migration) that creates the tables.
SINCE_VERSION: Final = 5
#: The schema version (migration) whose indexes cover the search's prefix ranges (:func:`covering_ddl`).
COVERING_SINCE: Final = 9
#: The collections whose writes keep the tables in step.
NAME_COLLECTIONS: Final = frozenset({"place_names", "name_alternates"})
#: The columns of ``name_keys`` a check or search reads, in this order.
KEY_COLUMNS: Final = (
    "fid",
    "id",
    "name",
    "comparison",
    "category",
    "division_code",
    "scope",
    "pinyin",
    "initials",
    "stem",
    "generic",
    "status",
)
#: The columns of a record a search reads: what a hit shows (the rest of ``KEY_COLUMNS`` serves the check).
SEARCH_COLUMNS: Final = ("id", "name", "category", "division_code", "status")
#: What a search entry query returns: ref, kind, text, pinyin, initials, then the record's ``SEARCH_COLUMNS``.
ENTRY_COLUMNS: Final = ("ref", "kind", "text", "entry_pinyin", "entry_initials", *SEARCH_COLUMNS)
_REQUIRED: Final = ("name", "category", "division_code", "scope", "status")
_SEARCHED: Final = {
    "text": ("comparison", "text"),
    "pinyin": ("pinyin", "pinyin"),
    "initials": ("initials", "initials"),
}
log = logging.getLogger(__name__)
#: How a former name's comparison form, pinyin and initials are computed (the gazetteer's romanisation,
#: registered by :mod:`geoservice.gazetteer.stored_names` on import; the store cannot import it).
FormerKeys = Callable[[str], tuple[str, str, str]]
_former_keys: list[FormerKeys] = []


def register_former_keys(keys: FormerKeys) -> None:
    """Use ``keys(name)`` for former names whose record does not hold its comparison form and pinyin."""
    _former_keys[:] = [keys]


def ddl(backend: Backend) -> list[str]:
    """CREATE statements of the tables (migration 5); ``state`` ``ready`` only when no name exists yet."""
    big, text = ("INTEGER", "TEXT") if backend == "sqlite" else ("BIGINT", 'TEXT COLLATE "C"')
    rowless = " WITHOUT ROWID" if backend == "sqlite" else ""
    return [
        f"CREATE TABLE name_keys (fid {big} PRIMARY KEY, id TEXT NOT NULL, name TEXT NOT NULL, "
        f"comparison {text} NOT NULL, category TEXT NOT NULL, division_code TEXT NOT NULL, scope TEXT NOT NULL, "
        f"pinyin {text} NOT NULL, initials {text} NOT NULL, stem TEXT NOT NULL, generic TEXT NOT NULL, "
        "status TEXT NOT NULL)",
        "CREATE INDEX name_keys_scope_comparison ON name_keys (scope, comparison)",
        "CREATE INDEX name_keys_scope_pinyin ON name_keys (scope, pinyin)",
        "CREATE INDEX name_keys_scope_stem ON name_keys (scope, stem)",
        "CREATE INDEX name_keys_comparison ON name_keys (comparison)",
        "CREATE INDEX name_keys_pinyin ON name_keys (pinyin)",
        "CREATE INDEX name_keys_initials ON name_keys (initials)",
        f"CREATE TABLE name_former (fid {big} PRIMARY KEY, target {big} NOT NULL, text {text} NOT NULL, "
        f"pinyin {text} NOT NULL, initials {text} NOT NULL)",
        "CREATE INDEX name_former_text ON name_former (text)",
        "CREATE INDEX name_former_pinyin ON name_former (pinyin)",
        "CREATE INDEX name_former_initials ON name_former (initials)",
        f"CREATE TABLE name_grams (gram {text} NOT NULL, ref {big} NOT NULL, PRIMARY KEY (gram, ref)){rowless}",
        f"CREATE TABLE name_gram_counts (gram {text} PRIMARY KEY, postings {big} NOT NULL)",
        f"CREATE TABLE name_index_state (id INTEGER PRIMARY KEY CHECK (id = 1), format INTEGER NOT NULL, "
        f"state TEXT NOT NULL, built_at TEXT, names {big} NOT NULL DEFAULT 0)",
        f"INSERT INTO name_index_state (id, format, state) SELECT 1, {FORMAT}, CASE WHEN EXISTS "
        "(SELECT 1 FROM place_names) OR EXISTS (SELECT 1 FROM name_alternates) THEN 'missing' ELSE 'ready' END",
    ]


def covering_ddl(backend: Backend) -> list[str]:
    """Migration 9: the search's three indexes of ``name_keys`` replaced by ones that cover what it reads.

    A prefix range (up to 4,000 entries, :data:`~geoservice.gazetteer.search.PREFIX_SCAN`) then reads
    consecutive index pages instead of one table page per entry: at 15,000,000 names most of those are
    separate random reads on a cold cache. Written out (not derived from ``SEARCH_COLUMNS``): a released step
    never changes.
    """
    statements = [f"DROP INDEX IF EXISTS name_keys_{key}" for key in ("comparison", "pinyin", "initials")]
    for key in ("comparison", "pinyin", "initials"):
        covered = [c for c in ("comparison", "pinyin", "initials") if c != key]
        covered += ["id", "name", "category", "division_code", "status"]
        columns = f"({key}, fid) INCLUDE ({', '.join(covered)})"
        if backend == "sqlite":  # no INCLUDE: the covered columns trail the key
            columns = f"({key}, fid, {', '.join(covered)})"
        statements.append(f"CREATE INDEX IF NOT EXISTS name_keys_{key}_entries ON name_keys {columns}")
    return statements


def key_indexes(backend: Backend) -> list[str]:
    """CREATE INDEX statements of ``name_keys`` as the latest schema has them (the check's and the search's)."""
    check = [s for s in ddl(backend) if s.startswith("CREATE INDEX name_keys_scope_")]
    return check + [
        s.replace(" IF NOT EXISTS", "") for s in covering_ddl(backend) if s.startswith("CREATE INDEX")
    ]


def grams_of(text: str) -> list[str]:
    """Character bigrams and gapped bigrams (a_c): one wrong character leaves some of them intact.

    Examples
    --------
    >>> grams_of("中山路")
    ['中山', '山路', '中_路']
    """
    if len(text) == 1:
        return [text]
    grams = [text[i : i + 2] for i in range(len(text) - 1)]
    grams += [f"{text[i]}_{text[i + 2]}" for i in range(len(text) - 2)]
    return grams


# -- writes ----------------------------------------------------------------------------------------------
def _key_row(feature: Feature) -> list[Any] | None:
    p = feature.properties
    if any(p.get(k) in (None, "") for k in _REQUIRED) or p.get("status") == "refused":
        return None
    return [
        feature.fid,
        feature.id,
        str(p["name"]),
        str(p.get("comparison") or p["name"]),
        str(p["category"]),
        str(p["division_code"]),
        str(p["scope"]),
        str(p.get("pinyin_key") or ""),
        str(p.get("pinyin_initials") or ""),
        str(p.get("stem") or ""),
        str(p.get("generic") or ""),
        str(p["status"]),
    ]


def _replace_grams(tx: Transaction, ref: int, old: str | None, new: str | None) -> None:
    if old == new:
        return
    if old is not None:
        tx.executemany(
            "DELETE FROM name_grams WHERE gram = ? AND ref = ?", [(g, ref) for g in set(grams_of(old))]
        )
    if new is not None:
        tx.executemany(
            "INSERT INTO name_grams (gram, ref) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(g, ref) for g in sorted(set(grams_of(new)))],
        )


def write_names(tx: Transaction, features: Sequence[Feature], *, fresh: bool = False) -> None:
    """Bring ``name_keys`` and the grams in step with place-name records just written (or deleted: no props).

    ``fresh``: the records are new (an import), so no old rows are looked up.
    """
    columns = ", ".join(KEY_COLUMNS)
    upsert = (
        f"INSERT INTO name_keys ({columns}) VALUES ({', '.join('?' for _ in KEY_COLUMNS)}) ON CONFLICT (fid) "
        f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in KEY_COLUMNS[1:])}"
    )
    rows, grams = [], []
    for feature in features:
        row = _key_row(feature) if feature.properties else None
        if row is None and feature.properties.get("name") and feature.properties.get("status") != "refused":
            log.warning(
                "地名记录 %s 缺少必填属性,未编入索引 / place name %s lacks a field: not indexed",
                feature.id,
                feature.id,
            )
        if not fresh:
            old = tx.execute("SELECT comparison FROM name_keys WHERE fid = ?", [feature.fid]).fetchone()
            _replace_grams(
                tx,
                int(feature.fid or 0),
                None if old is None else str(old[0]),
                None if row is None else row[3],
            )
            if row is None and old is not None:
                tx.execute("DELETE FROM name_keys WHERE fid = ?", [feature.fid])
        elif row is not None:
            grams += [(g, feature.fid) for g in set(grams_of(row[3]))]
        if row is not None:
            rows.append(row)
    if rows:
        tx.executemany(upsert, rows)
    if grams:
        tx.executemany("INSERT INTO name_grams (gram, ref) VALUES (?, ?) ON CONFLICT DO NOTHING", grams)


def _former_text(p: dict[str, Any]) -> tuple[str, str, str]:
    if p.get("comparison") or not _former_keys:
        pinyin, initials = str(p.get("pinyin_key") or ""), str(p.get("pinyin_initials") or "")
        return str(p.get("comparison") or p["name"]), pinyin, initials
    return _former_keys[0](str(p["name"]))


def write_former(tx: Transaction, features: Sequence[Feature]) -> None:
    """Bring ``name_former`` in step with alternates just written: historic ones in, others (or deleted) out."""
    for feature in features:
        fid, p = int(feature.fid or 0), feature.properties
        old = tx.execute("SELECT text FROM name_former WHERE fid = ?", [fid]).fetchone()
        target = None
        if p.get("kind") == "historic" and p.get("name_id") and p.get("name"):
            target = tx.execute("SELECT fid FROM place_names WHERE id = ?", [str(p["name_id"])]).fetchone()
        if target is None:
            if old is not None:
                tx.execute("DELETE FROM name_former WHERE fid = ?", [fid])
                _replace_grams(tx, -fid, str(old[0]), None)
            continue
        text, pinyin, initials = _former_text(p)
        tx.execute(
            "INSERT INTO name_former (fid, target, text, pinyin, initials) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (fid) DO UPDATE SET target = excluded.target, text = excluded.text, "
            "pinyin = excluded.pinyin, initials = excluded.initials",
            [fid, int(target[0]), text, pinyin, initials],
        )
        _replace_grams(tx, -fid, None if old is None else str(old[0]), text)


def _tables_exist(tx: Transaction) -> bool:
    """Whether the database has the tables (schema 5 or later: a write before migrating, as in an upgrade test)."""
    if tx.store.name_tables_exist:
        return True
    version = int(tx.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
    if version < SINCE_VERSION:  # asked again next time: the same store may migrate later
        return False
    tx.store.name_tables_exist = True
    return True


def _follow_write(tx: Transaction, write: Write) -> None:
    """The write hook: the records as written (an import's as fresh), a deleted one as a record without properties."""
    features = write.after or tuple(replace(f, properties={}) for f in write.before)
    after_write(tx, write.collection, features, fresh=write.bulk)


write_hooks.register(WriteHook("name_tables", "in_write", _follow_write, collections=NAME_COLLECTIONS))


def after_write(
    tx: Transaction, collection: str, features: Sequence[Feature], *, fresh: bool = False
) -> None:
    """The hook every write of ``place_names`` / ``name_alternates`` calls (same transaction).

    On a database not yet migrated to the tables nothing is written: the migration then marks them ``missing``.
    """
    if not _tables_exist(tx) or tx.store.name_tables_deferred:
        return
    if collection == "place_names":
        write_names(tx, features, fresh=fresh)
    elif collection == "name_alternates":
        write_former(tx, features)


def clear(tx: Transaction) -> None:
    """Empty the tables and mark them ``building`` (a full rebuild follows in the same transaction)."""
    for table in ("name_keys", "name_former", "name_grams", "name_gram_counts"):
        tx.execute(f"DELETE FROM {table}")
    tx.execute("UPDATE name_index_state SET state = 'building'")


def clear_counts(tx: Transaction) -> None:
    """Forget the grams' posting counts (``mark_built`` takes them again)."""
    tx.execute("DELETE FROM name_gram_counts")


def mark_built(tx: Transaction) -> int:
    """Count each gram's postings, stamp the tables ``ready`` in this code's format; the number of names."""
    tx.execute(
        "INSERT INTO name_gram_counts (gram, postings) SELECT gram, COUNT(*) FROM name_grams GROUP BY gram"
    )
    names = int(tx.execute("SELECT COUNT(*) FROM name_keys").fetchone()[0])
    tx.execute(
        "UPDATE name_index_state SET format = ?, state = 'ready', built_at = ?, names = ?",
        [FORMAT, utc_now(), names],
    )
    return names


def index_state(tx: Transaction) -> tuple[int, str, str | None, int]:
    """(format, state, built_at, names) of the tables; ``(0, 'missing', None, 0)`` before migration 5."""
    row = tx.execute("SELECT format, state, built_at, names FROM name_index_state WHERE id = 1").fetchone()
    if row is None:
        return 0, "missing", None, 0
    return int(row[0]), str(row[1]), row[2], int(row[3])


# -- reads -----------------------------------------------------------------------------------------------
def keys_where(tx: Transaction, scope: str, column: str, value: str) -> list[tuple[Any, ...]]:
    """``name_keys`` rows (``KEY_COLUMNS``) of ``scope`` whose ``column`` (comparison, pinyin, stem) is ``value``."""
    if column not in ("comparison", "pinyin", "stem"):
        raise ValueError(column)
    sql = f"SELECT {', '.join(KEY_COLUMNS)} FROM name_keys WHERE scope = ? AND {column} = ? ORDER BY fid"
    return [tuple(r) for r in tx.execute(sql, [scope, value]).fetchall()]


def _entry_select(kind: str) -> str:
    record = ", ".join(f"k.{c}" for c in SEARCH_COLUMNS)
    if kind == "name":
        return f"SELECT k.fid, 'name', k.comparison, k.pinyin, k.initials, {record} FROM name_keys k"
    return (
        f"SELECT -f.fid, 'historic', f.text, f.pinyin, f.initials, {record} "
        "FROM name_former f JOIN name_keys k ON k.fid = f.target"
    )


def exact_entries(tx: Transaction, text: str) -> list[tuple[Any, ...]]:
    """Entries (``ENTRY_COLUMNS``) whose comparison form is ``text``: names, then former names."""
    rows = tx.execute(f"{_entry_select('name')} WHERE k.comparison = ? ORDER BY k.fid", [text]).fetchall()
    rows += tx.execute(f"{_entry_select('historic')} WHERE f.text = ? ORDER BY f.fid", [text]).fetchall()
    return [tuple(r) for r in rows]


def prefix_entries(tx: Transaction, field: str, prefix: str, limit: int) -> list[tuple[str, tuple[Any, ...]]]:
    """(key, entry) of the first ``limit`` entries whose ``field`` (text, pinyin, initials) starts with ``prefix``.

    A range on the field's covering index (migration 9) in code-point order (``COLLATE "C"`` on PostgreSQL),
    ties by ``fid``; names and former names merged by key.
    """
    name_col, former_col = _SEARCHED[field]
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix and ord(prefix[-1]) < 0x10FFFF else None
    merged = []
    for kind, column, fid in (("name", f"k.{name_col}", "k.fid"), ("historic", f"f.{former_col}", "f.fid")):
        where = f"{column} >= ?" + (f" AND {column} < ?" if end is not None else "")
        params: list[Any] = [prefix, *([end] if end is not None else []), limit]
        sql = f"{_entry_select(kind)} WHERE {where} ORDER BY {column}, {fid} LIMIT ?"
        for row in tx.execute(sql, params).fetchall():
            key = row[2] if field == "text" else row[3] if field == "pinyin" else row[4]
            merged.append((str(key), tuple(row)))
    merged.sort(key=lambda item: (item[0], item[1][1] != "name", abs(item[1][0])))
    return merged[:limit]


def gram_counts(tx: Transaction, grams: Sequence[str]) -> dict[str, int]:
    """Postings per gram as of the last full build (absent: fewer, or new since)."""
    if not grams:
        return {}
    sql = f"SELECT gram, postings FROM name_gram_counts WHERE gram IN ({', '.join('?' for _ in grams)})"
    return {str(g): int(n) for g, n in tx.execute(sql, list(grams)).fetchall()}


def gram_candidates(tx: Transaction, grams: Sequence[str], limit: int, scan: int) -> list[int]:
    """Refs sharing most of ``grams`` (at most ``scan`` postings read per gram), best ``limit`` first."""
    if not grams:
        return []
    parts = " UNION ALL ".join(
        "SELECT ref FROM (SELECT ref FROM name_grams WHERE gram = ? LIMIT ?) g" for _ in grams
    )
    params: list[Any] = [v for g in grams for v in (g, scan)]
    sql = f"SELECT ref FROM ({parts}) p GROUP BY ref ORDER BY COUNT(*) DESC, ref LIMIT ?"
    return [int(r[0]) for r in tx.execute(sql, [*params, limit]).fetchall()]


def entries_by_refs(tx: Transaction, refs: Sequence[int]) -> list[tuple[Any, ...]]:
    """Entries (``ENTRY_COLUMNS``) of ``refs`` (fid of a name, minus fid of a former name), in no set order."""
    rows: list[Any] = []
    for kind, fids in (("name", [r for r in refs if r > 0]), ("historic", [-r for r in refs if r < 0])):
        if fids:
            fid = "k.fid" if kind == "name" else "f.fid"
            sql = f"{_entry_select(kind)} WHERE {fid} IN ({', '.join('?' for _ in fids)})"
            rows += tx.execute(sql, fids).fetchall()
    return [tuple(r) for r in rows]


def gram_present(tx: Transaction, gram: str) -> int:
    """1 when some entry has ``gram``, else 0 (a gram counted since the last full build)."""
    return int(tx.execute("SELECT 1 FROM name_grams WHERE gram = ? LIMIT 1", [gram]).fetchone() is not None)
