"""Set-wise builds of the persisted name indexes (地名索引批量构建): a rebuild, and a bulk load of names.

The incremental path (:func:`geoservice.store.name_tables.after_write`) keeps the tables in step one record
at a time, which is right for a registration but far too slow for millions of names: every name's key row,
six index entries and its grams land at random places of large B-trees. Here the same rows are made by a few
``INSERT … SELECT`` statements over ``place_names``:

- :func:`rebuild` empties the tables, drops the secondary indexes of ``name_keys``, copies the key rows out
  of the records' JSON in ``fid`` order, makes the grams in SQL (bigrams and gapped bigrams by ``substr``
  over a table of positions, sorted once so they append to ``name_grams``' primary key), creates the indexes
  again (one sort each) and counts the grams; former names (few) go through the incremental writer;
- :func:`load_names` stores batches of new place-name records with the tables' writes deferred and the
  collection's column indexes dropped, then rebuilds them in one go; :func:`load_rows` does the same from
  plain rows (the database makes the UUIDs and JSON), for a national load.

Both give exactly the rows the incremental writes give (``tests/geoservice/gazetteer/test_name_bulk.py``).
While they run, the tables say ``building`` (the check and search answer 503). On SQLite, readers of other
connections see the previous tables until the rebuild commits (WAL); on PostgreSQL dropping an index locks
the table, so checks wait for the rebuild to commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

from geoservice.store import name_tables
from geoservice.store.columns import IDENTIFIER, PROMOTED, RECORD, as_text
from geoservice.store.dialect import Backend
from geoservice.store.records import utc_now

if TYPE_CHECKING:
    from geoservice.store.base import Store
    from geoservice.store.records import Feature
    from geoservice.store.transaction import Transaction

__all__ = ["BULK_CACHE_MIB", "load_names", "load_rows", "rebuild"]

#: SQLite's page cache for the connection of a bulk load (MiB): its random index inserts stay in memory.
BULK_CACHE_MIB: Final = 2048
#: Per transaction settings of the bulk phase, per backend (PostgreSQL's ``SET LOCAL`` end with it).
_TUNING: Final[dict[Backend, tuple[str, ...]]] = {
    "sqlite": (f"PRAGMA cache_size = -{BULK_CACHE_MIB * 1024}",),  # WAL at NORMAL syncs at checkpoints only
    "postgis": (
        "SET LOCAL synchronous_commit = off",
        "SET LOCAL maintenance_work_mem = '512MB'",
        "SET LOCAL work_mem = '256MB'",
    ),
}
#: What a SQLite connection is set back to after a bulk load (as :meth:`SQLiteStore._open` leaves it).
_UNTUNING: Final = ("PRAGMA cache_size = -2000",)
#: A record's UUID (version 4, as text) made by the database.
_NEW_ID: Final[dict[Backend, str]] = {
    "sqlite": "(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || "
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))",
    "postgis": "gen_random_uuid()::text",
}
_JSON_OBJECT: Final[dict[Backend, str]] = {"sqlite": "json_object", "postgis": "jsonb_build_object"}


def _tune(tx: Transaction) -> None:
    for statement in _TUNING[tx.dialect.backend]:
        tx.execute(statement)


def _copy_keys(tx: Transaction) -> None:
    """Key rows of every place name but refused ones and those lacking a required field, in ``fid`` order."""
    field = tx.dialect.json_field
    required = " AND ".join(
        f"{field(k)} IS NOT NULL AND {field(k)} <> ''" for k in ("name", "category", "division_code", "scope")
    )
    columns = ", ".join(name_tables.KEY_COLUMNS)
    tx.execute(
        f"INSERT INTO name_keys ({columns}) SELECT fid, id, {field('name')}, "
        f"COALESCE(NULLIF({field('comparison')}, ''), {field('name')}), {field('category')}, "
        f"{field('division_code')}, {field('scope')}, COALESCE({field('pinyin_key')}, ''), "
        f"COALESCE({field('pinyin_initials')}, ''), COALESCE({field('stem')}, ''), "
        f"COALESCE({field('generic')}, ''), {field('status')} FROM place_names "
        f"WHERE {required} AND {field('status')} IS NOT NULL AND {field('status')} NOT IN ('', 'refused') "
        "ORDER BY fid"
    )


def _copy_grams(tx: Transaction) -> None:
    """The grams of every key row (:func:`~geoservice.store.name_tables.grams_of`), sorted, each pair once."""
    longest = int(tx.execute("SELECT COALESCE(MAX(LENGTH(comparison)), 0) FROM name_keys").fetchone()[0])
    if longest == 0:
        return
    positions = "WITH RECURSIVE p(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM p WHERE i < ?) "
    text = "k.comparison"
    tx.execute(
        f"{positions}INSERT INTO name_grams (gram, ref) SELECT gram, ref FROM ("
        f"SELECT SUBSTR({text}, p.i, 2) AS gram, k.fid AS ref FROM name_keys k JOIN p ON p.i < LENGTH({text}) "
        f"UNION ALL SELECT SUBSTR({text}, p.i, 1) || '_' || SUBSTR({text}, p.i + 2, 1), k.fid "
        f"FROM name_keys k JOIN p ON p.i + 2 <= LENGTH({text}) "
        f"UNION ALL SELECT {text}, k.fid FROM name_keys k WHERE LENGTH({text}) = 1"
        ") g GROUP BY gram, ref ORDER BY gram, ref",
        [longest],
    )


def _former_names(tx: Transaction, chunk: int = 5_000) -> None:
    batch: list[Feature] = []
    for feature in tx.iter_features("name_alternates", filters={"kind": "historic"}):
        batch.append(feature)
        if len(batch) >= chunk:
            name_tables.write_former(tx, batch)
            batch = []
    name_tables.write_former(tx, batch)


def rebuild(tx: Transaction, *, progress: Callable[[str], None] | None = None) -> int:
    """Build the tables anew from every place name and former name, set-wise; the number of names indexed."""
    say = progress or (lambda _step: None)
    backend = tx.dialect.backend
    _tune(tx)
    name_tables.clear(tx)
    for statement in name_tables.key_indexes(backend):
        tx.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")
    _copy_keys(tx)
    say("key rows copied")
    _copy_grams(tx)
    say("grams made")
    for statement in name_tables.key_indexes(backend):
        tx.execute(statement)
    say("indexes created")
    _former_names(tx)
    names = name_tables.mark_built(tx)
    say("grams counted")
    return names


def _column_indexes(tx: Transaction) -> list[str]:
    return list(tx.dialect.column_indexes("place_names"))


@contextmanager
def _deferred(store: Store) -> Iterator[None]:
    """The incremental writes of the name tables skipped for ``store`` (this process) inside the block."""
    store.name_tables_deferred = True
    try:
        yield
    finally:
        store.name_tables_deferred = False


def load_names(
    store: Store,
    batches: Iterable[Sequence[Feature]],
    *,
    user: str | None = None,
    reason: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Store new place-name records batch by batch (one transaction each), then :func:`rebuild`.

    For a first load or a large import into a quiet database: the collection's column indexes are dropped
    while it runs and the name check answers 503 until the rebuild commits. Returns the names indexed.
    """

    def write(tx: Transaction, batch: Sequence[Feature]) -> int:
        return tx.insert_many("place_names", batch, reason=reason)

    return _load(store, batches, write, user=user, progress=progress)


def load_rows(
    store: Store,
    properties: Sequence[str],
    batches: Iterable[Sequence[Sequence[Any]]],
    *,
    user: str | None = None,
    reason: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """:func:`load_names` from rows (``key``, then the text of each of ``properties``), no record objects made.

    The database makes each record's UUID and JSON properties (``json_object`` / ``jsonb_build_object``), so a
    national load costs a tuple per name; one audit row per batch counts them. Returns the names indexed.
    """
    for name in properties:
        if not IDENTIFIER.match(name):
            raise ValueError(f"not a property name: {name!r}")
    where = {p: i for i, p in enumerate(properties)}

    def write(tx: Transaction, batch: Sequence[Sequence[Any]]) -> int:
        now = utc_now()
        rows = [
            [
                now,
                now,
                row[0],
                *(as_text(row[1 + where[c]]) if c in where else None for c in PROMOTED),
                *row[1:],
            ]
            for row in batch
        ]
        tx.executemany(_row_insert(tx.dialect.backend, properties), rows)
        tx.audit("import", "place_names", None, None, {"count": len(rows)}, reason)
        return len(rows)

    return _load(store, batches, write, user=user, progress=progress)


def _row_insert(backend: Backend, properties: Sequence[str]) -> str:
    """INSERT of one record from (created_at, updated_at, key, promoted columns, property texts)."""
    pairs = ", ".join(f"'{p}', CAST(? AS TEXT)" for p in properties)
    values = {
        "id": _NEW_ID[backend],
        "version": "1",
        "created_at": "?",
        "updated_at": "?",
        "key": "?",
        **{c: "?" for c in PROMOTED},
        "ref": "NULL",
        "props": f"{_JSON_OBJECT[backend]}({pairs})",
        "geom": "NULL",
    }
    assert tuple(values) == RECORD.written, "the bulk INSERT must name every written column"
    return f"INSERT INTO place_names ({', '.join(values)}) VALUES ({', '.join(values.values())})"


def _load(
    store: Store,
    batches: Iterable[Sequence[Any]],
    write: Callable[[Transaction, Sequence[Any]], int],
    *,
    user: str | None,
    progress: Callable[[str], None] | None,
) -> int:
    say = progress or (lambda _step: None)
    with store.transaction(user=user) as tx:
        _tune(tx)
        tx.execute("UPDATE name_index_state SET state = 'building'")
        for statement in _column_indexes(tx):
            tx.execute(f"DROP INDEX IF EXISTS {statement.split()[2]}")
    stored = 0
    try:
        with _deferred(store):
            for batch in batches:
                if not batch:
                    continue
                with store.transaction(user=user) as tx:
                    _tune(tx)
                    stored += write(tx, batch)
                say(f"{stored} names stored")
    finally:
        with store.transaction(user=user) as tx:
            _tune(tx)
            for statement in _column_indexes(tx):
                tx.execute(statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    say("column indexes created")
    try:
        with store.transaction(user=user) as tx:
            return rebuild(tx, progress=progress)
    finally:
        if store.dialect.backend == "sqlite":
            with store.transaction(readonly=True) as tx:
                for statement in _UNTUNING:
                    tx.execute(statement)
