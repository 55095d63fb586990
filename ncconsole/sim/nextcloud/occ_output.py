"""Output the way Nextcloud's occ (PHP, Symfony Console) writes it: PHP's json_encode, the
`  - key: value` plain lists of occ's Base command, Symfony tables and error blocks."""

from __future__ import annotations

import json
from typing import Any


def _phpify(value: Any) -> Any:
    # PHP arrays: an empty associative array encodes as [] too.
    if isinstance(value, dict):
        return [] if not value else {str(k): _phpify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_phpify(v) for v in value]
    return value


def php_json(value: Any, pretty: bool = False) -> str:
    """json_encode($value) / json_encode($value, JSON_PRETTY_PRINT); PHP escapes slashes."""
    if pretty:
        text = json.dumps(_phpify(value), indent=4)
    else:
        text = json.dumps(_phpify(value), separators=(",", ":"))
    return text.replace("/", "\\/")


def value_to_string(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def plain_list(items: dict[str, Any] | list[Any], prefix: str = "  - ") -> list[str]:
    """occ Base::writeArrayInOutputFormat for the plain format."""
    lines: list[str] = []
    pairs = items.items() if isinstance(items, dict) else enumerate(items)
    for key, item in pairs:
        if isinstance(item, dict | list):
            lines.append(f"{prefix}{key}:")
            lines.extend(plain_list(item, "  " + prefix))
        elif isinstance(key, int):
            lines.append(f"{prefix}{value_to_string(item)}")
        else:
            lines.append(f"{prefix}{key}: {value_to_string(item)}")
    return lines


def formatted(items: Any, output: str) -> str:
    """An array in the chosen --output format, newline-terminated."""
    if output == "json":
        return php_json(items) + "\n"
    if output == "json_pretty":
        return php_json(items, pretty=True) + "\n"
    return "".join(line + "\n" for line in plain_list(items))


def table(rows: list[dict[str, Any]]) -> str:
    """Symfony Console's default table style."""
    if not rows:
        return ""
    headers = list(rows[0])
    cells = [[value_to_string(row[h]) for h in headers] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"

    def line(values: list[str]) -> str:
        return "|" + "|".join(f" {v:<{w}} " for v, w in zip(values, widths, strict=True)) + "|\n"

    return rule + line(headers) + rule + "".join(line(r) for r in cells) + rule


def error_block(message: str) -> str:
    """How Symfony Console renders an exception on stderr without -v."""
    lines = message.strip().split("\n")
    width = max(len(line) for line in lines) + 4
    blank = " " * width
    body = "".join(f"  {line}{' ' * (width - len(line) - 4)}  \n" for line in lines)
    return f"\n{blank}\n{body}{blank}\n\n"


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def alternatives(name: str, candidates: list[str]) -> list[str]:
    """Symfony's findAlternatives: close by edit distance, or containing the name."""
    scored = []
    for candidate in candidates:
        distance = levenshtein(name, candidate)
        if distance <= len(name) / 3 or name in candidate:
            scored.append((distance, candidate))
    return [c for _, c in sorted(scored)]
