"""Many officers against real servers (多名干事并发登记), and the check that every worker agrees afterwards.

Used by ``python -m bench reliability`` and by the tests of the name check across workers: each officer is a
thread with its own HTTP connection, registering generated road names (some homophones and duplicates of
each other by design) on the servers in turn; then every registered name is probed on every server
(``POST /names/check`` must call it a duplicate of the stored record, ``GET /names/search`` must find it)
and the database is read to confirm each 201 is stored once with one audit row and that no homophone got
in without a reason.
"""

from __future__ import annotations

import os
import random
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.tiles import free_port, wait_until_up
from bench.tiles_vs_tipg import stop, uvicorn
from geoservice.store import open_store

ROOT = Path(__file__).resolve().parents[1]
#: Characters of generated names: several readings have 2–3 characters, so homophones are frequent.
CHARS = "林临琳江姜疆华花明鸣铭文闻安鞍平萍屏清青阳杨扬东冬兴星和荷宁凝松嵩桥乔泉山衫湖胡岭"
#: Townships of 武汉市 (one built-up scope for roads), in the test divisions and the shared ones.
DIVISIONS = ("420102002", "420102009", "420103", "420116006")


@dataclass
class OfficerRun:
    """What the officers did: the registrations acknowledged (id → name, division) and every status seen."""

    registered: dict[str, tuple[str, str]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        """Responses 5xx plus requests that got no response at all."""
        return sum(n for s, n in self.statuses.items() if s >= 500) + sum(self.errors.values())


@dataclass
class Verification:
    """What the probes and the database say after a run (all zero when the service held)."""

    probed: int = 0
    disagreements: list[str] = field(default_factory=list)
    not_stored_once: list[str] = field(default_factory=list)
    unreasoned_homophones: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.disagreements or self.not_stored_once or self.unreasoned_homophones)


def road_name(rng: random.Random) -> str:
    """A generated road name: two or three characters of :data:`CHARS` + 路 (about 93,000 names)."""
    return "".join(rng.choice(CHARS) for _ in range(rng.choice((2, 3)))) + "路"


def run_officers(
    bases: Sequence[str], token: str, *, officers: int, seconds: float, seed: int = 14
) -> OfficerRun:
    """``officers`` threads registering names on ``bases`` in turn for ``seconds``; half give a reason."""
    run = OfficerRun()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    def officer(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        with httpx.Client(timeout=60, headers=headers) as http:
            turn = number
            while time.monotonic() < stop_at:
                turn += 1
                body = {"name": road_name(rng), "category": "road", "division_code": rng.choice(DIVISIONS)}
                if rng.random() < 0.5:
                    body["reason"] = "沿用历史地名 / historic name kept"
                try:
                    response = http.post(f"{bases[turn % len(bases)]}/names", json=body)
                except httpx.HTTPError as exc:
                    with lock:
                        run.errors[type(exc).__name__] += 1
                    continue
                with lock:
                    run.statuses[response.status_code] += 1
                    if response.status_code == 201:
                        run.registered[response.json()["id"]] = (body["name"], body["division_code"])

    started = time.monotonic()
    threads = [threading.Thread(target=officer, args=(n,)) for n in range(officers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.seconds = time.monotonic() - started
    return run


def verify(bases: Sequence[str], token: str, database_url: str, run: OfficerRun) -> Verification:
    """Probe every registered name on every server; read the database for stored-once and homophones."""
    result = Verification()
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(timeout=60, headers=headers) as http:
        for id, (name, division_code) in sorted(run.registered.items()) if bases else ():
            answers = []
            for base in bases:
                body = {"name": name, "category": "road", "division_code": division_code}
                check = http.post(f"{base}/names/check", json=body).json()
                duplicate_of = sorted(
                    c["id"] for i in check["issues"] if i["rule"] == "duplicate" for c in i["conflicts"]
                )
                hits = http.get(f"{base}/names/search", params={"q": name, "limit": 100}).json()["hits"]
                answers.append((tuple(duplicate_of), id in {h["id"] for h in hits}))
            result.probed += 1
            if len(set(answers)) > 1 or answers[0] != ((id,), True):
                result.disagreements.append(f"{name} ({id}): {dict(zip(bases, answers, strict=True))}")
    store = open_store(database_url)
    try:
        with store.transaction(readonly=True) as tx:
            audits = Counter(
                str(r[0])
                for r in tx.execute(
                    "SELECT entity_id FROM audit WHERE collection = 'place_names' AND action = 'register'"
                ).fetchall()
            )
            records = list(tx.iter_features("place_names"))
    finally:
        store.close()
    stored = Counter(f.id for f in records)
    for id, (name, _) in run.registered.items():
        if stored[id] != 1 or audits[id] != 1:
            result.not_stored_once.append(f"{name} ({id}): {stored[id]} records, {audits[id]} audit rows")
    groups: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for f in records:
        if "homophone" not in (f.properties.get("accepted_warnings") or []):
            groups[(str(f.properties["scope"]), str(f.properties["pinyin_key"]))].append(
                str(f.properties["name"])
            )
    result.unreasoned_homophones = [f"{key}: {names}" for key, names in groups.items() if len(names) > 1]
    return result


@contextmanager
def serve(
    database_url: str, workdir: Path, environment: Mapping[str, str | None] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """One uvicorn worker over ``database_url`` on a free loopback port; yields its base URL and process.

    ``environment``: variables set for the worker (``None`` unsets one).
    """
    port = free_port()
    env = dict(os.environ) | {
        "GEOSERVICE_DATABASE_URL": database_url,
        "GEOSERVICE_PHOTO_DIR": str(workdir / "photos"),
        "PYTHONPATH": str(ROOT),
    }
    for variable, value in (environment or {}).items():
        if value is None:
            env.pop(variable, None)
        else:
            env[variable] = value
    command = [*uvicorn("geoservice.api:create_app", port, "--factory"), "--workers", "1"]
    with (workdir / f"uvicorn-{port}.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{base}/health", process)
            yield base, process
        finally:
            if process.poll() is None:
                stop(process)
