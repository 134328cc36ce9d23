"""Configuration (配置): every ``GEOSERVICE_*`` setting in one table, and a check at start-up.

The table of ``docs/operations.md`` is :func:`settings_table`: the variable, its default and its meaning, taken
from the settings classes themselves (the ``Attributes`` section of their docstrings), so adding a setting
without a description, or changing a default, shows up as a failing docs test rather than a stale page.

:func:`load_settings` reads the environment once and turns pydantic's complaint into a bilingual message
naming the variable, the value given and the rule (:class:`~geoservice.errors.SettingsError`, exit code 2),
so a typo in ``/etc/geoservice/geoservice.env`` stops the service at start with the line to fix.
"""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from geoservice.errors import SettingsError
from geoservice.settings import PROJECT_ROOT, NameRulesSettings, Settings

#: The settings classes of the service, in the order the table lists them.
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (Settings, NameRulesSettings)


def env_name(cls: type[BaseSettings], field: str) -> str:
    """The environment variable of one field (``GEOSERVICE_PHOTO_DIR``)."""
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


def attribute_docs(cls: type) -> dict[str, str]:
    """The ``Attributes`` section of a NumPy docstring: field name → one-line description.

    A line ``a, b`` documents both fields with the text under it.
    """
    doc = cls.__doc__ or ""
    section = doc.split("Attributes\n", 1)[-1] if "Attributes\n" in doc else ""
    lines = section.split("\n")[1:]  # the ---------- underline
    docs: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []
    indent = None
    for line in lines:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        if depth == indent:
            for name in names:
                docs[name] = " ".join(text)
            names, text = [n.strip() for n in line.split(",")], []
        elif depth > indent:
            text.append(line.strip())
        else:
            break
    for name in names:
        docs[name] = " ".join(text)
    return docs


def default_text(value: Any) -> str:
    """A default as the table shows it: paths under the install folder as ``<install>/…``."""
    text = str(value.value if hasattr(value, "value") else value)
    if isinstance(value, list | tuple | dict):
        import json

        text = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    return text.replace(str(PROJECT_ROOT.parent / "shared"), "<install>/../shared").replace(
        str(PROJECT_ROOT), "<install>"
    )


def settings_table() -> str:
    """The Markdown table of every setting: variable, default, meaning (中英文说明见正文)."""
    rows = ["| variable 变量 | default 默认值 | meaning 含义 |", "|---|---|---|"]
    for cls in SETTINGS_CLASSES:
        docs = attribute_docs(cls)
        for name, field in cls.model_fields.items():
            default = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
            meaning = docs.get(name, "").replace("|", "\\|")
            rows.append(f"| `{env_name(cls, name)}` | `{default_text(default)}` | {meaning} |")
    return "\n".join(rows) + "\n"


def undocumented_settings() -> list[str]:
    """Variables whose field has no description in its class's docstring (the docs test wants none)."""
    return [
        env_name(cls, name)
        for cls in SETTINGS_CLASSES
        for name in cls.model_fields
        if not attribute_docs(cls).get(name)
    ]


def load_settings(**overrides: Any) -> Settings:
    """The service settings from the environment (and ``overrides``), every class checked.

    Raises
    ------
    SettingsError
        Naming each bad variable, the value given and the rule, e.g.
        ``GEOSERVICE_WORKERS='many': 应为整数 / Input should be a valid integer``.
    """
    problems: list[dict[str, Any]] = []
    settings: Settings | None = None
    for cls in SETTINGS_CLASSES:
        try:
            loaded = cls(**overrides) if cls is Settings else cls()
        except ValidationError as exc:
            problems += [_problem(cls, err) for err in exc.errors()]
            continue
        if isinstance(loaded, Settings):
            settings = loaded
    if problems or settings is None:
        listed = "; ".join(f"{p['field']}={p['value']!r}: {p['message']}" for p in problems)
        raise SettingsError(
            f"配置有误,请改正后再启动 / bad configuration, fix it and start again: {listed}",
            details={"problems": [f"{p['field']}={p['value']!r}: {p['message']}" for p in problems]},
        )
    return settings


def _problem(cls: type[BaseSettings], err: Any) -> dict[str, Any]:
    name = str(err["loc"][0]) if err.get("loc") else "?"
    variable = env_name(cls, name)
    value = os.environ.get(variable, err.get("input"))
    return {"field": variable, "value": value, "rule": err.get("type"), "message": _bilingual(err)}


_RULES_ZH = {
    "int_parsing": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "literal_error": "取值不在允许范围内",
    "greater_than": "应大于下限",
    "greater_than_equal": "低于下限",
    "less_than_equal": "超过上限",
    "value_error": "格式不对",
    "json_invalid": "应为 JSON",
}


def _bilingual(err: Any) -> str:
    english = re.sub(r"^Value error, ", "", str(err.get("msg", "invalid")))
    return f"{_RULES_ZH.get(str(err.get('type')), '不合规')} / {english}"


if __name__ == "__main__":  # python -m geoservice.operations.config: the table for docs/operations.md
    print(settings_table(), end="")
