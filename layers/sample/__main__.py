"""``python -m layers.sample``: rebuild ``data/`` (重建示例数据)."""

from layers.sample import main

if __name__ == "__main__":
    raise SystemExit(main())
