"""Runner: ``python -m bench NAME`` runs ``bench/NAME.py``'s ``main()``; ``python -m bench all`` runs them all;
``python -m bench`` lists them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    """Names of the benchmark modules beside this file."""
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = available()
    if not argv:
        print("benchmarks / 基准:", " ".join(names))
        return 0
    if argv[0] == "all":
        chosen, extra = names, []
    else:
        chosen, extra = argv[:1], argv[1:]  # arguments after the name go to that benchmark's main()
    for name in chosen:
        if name not in names:
            print(
                f"未知基准 / unknown benchmark {name!r}; choose one of: {', '.join(names)}", file=sys.stderr
            )
            return 2
        print(f"== {name}", flush=True)
        importlib.import_module(f"bench.{name}").main(*extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
