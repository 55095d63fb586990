"""Reading YAML values files while remembering where each value came from (file and line).

Loading never raises for bad content: a file that cannot be parsed comes back with a
`problem` (message and line) instead of data, so one broken file never hides the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

# A dotted path into a document; list items are written as `[i]`, e.g. `ingress.hosts[0].host`.
FieldPath = str

# Far more values than any Helm values file; stops alias bombs from expanding.
_MAX_NODES = 200_000
_QUOTED_VALUES = re.compile(r' with value ".*')


@dataclass(frozen=True)
class LoadProblem:
    """Why a file could not be loaded: `kind` is "syntax", "empty" or "unreadable"."""

    kind: str
    message: str
    line: int = 1


@dataclass
class YamlDoc:
    """One parsed values file: plain data plus the 1-based line of every key and list item."""

    path: Path
    data: Any = None
    lines: dict[FieldPath, int] = field(default_factory=dict)
    problem: LoadProblem | None = None

    def get(self, dotted: FieldPath) -> Any:
        """The value at a dotted path (`a.b[0].c`), or None when any step is missing."""
        node = self.data
        for step in _split(dotted):
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    return None
            elif not isinstance(node, dict) or step not in node:
                return None
            node = node[step]
        return node

    def line(self, dotted: FieldPath) -> int:
        """Line of the value at `dotted`, else of its nearest existing parent, else 1."""
        while dotted:
            if dotted in self.lines:
                return self.lines[dotted]
            dotted = _parent(dotted)
        return 1


def load_yaml(path: Path) -> YamlDoc:
    """Read and parse one YAML file; problems are reported on the result, never raised."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return YamlDoc(path=path, problem=LoadProblem("unreadable", "file is not UTF-8 text"))
    except OSError as err:
        message = f"cannot read file ({err.strerror or err})"
        return YamlDoc(path=path, problem=LoadProblem("unreadable", message))
    return parse_yaml(text, path)


def parse_yaml(text: str, path: Path) -> YamlDoc:
    """Parse YAML text that is (or will be) the content of `path`."""
    doc = YamlDoc(path=path)
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        doc.problem = LoadProblem("empty", "file is empty")
        return doc
    try:
        raw = YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        message = err.problem or err.context or "invalid YAML"
        if ("<stream end>" in message or "end of stream" in message) and err.context_mark:
            # Point at the unclosed bracket or quote, not at the end of the file.
            mark = err.context_mark
            message = f"{message} ({err.context} that starts on this line)"
        elif message.startswith("but ") and err.context:
            message = f"{err.context}, {message}"
        # Duplicate-key messages quote both values; values files may hold credentials.
        message = _QUOTED_VALUES.sub("", message)
        line = mark.line + 1 if mark else 1
        doc.problem = LoadProblem("syntax", message, line)
        return doc
    except YAMLError as err:
        doc.problem = LoadProblem("syntax", str(err).splitlines()[0] or "invalid YAML")
        return doc
    except Exception as err:  # the parser's own failures on odd input must not escape
        doc.problem = LoadProblem("syntax", f"cannot parse YAML ({type(err).__name__})")
        return doc
    if raw is None:
        doc.problem = LoadProblem("empty", "file holds no values")
        return doc
    try:
        doc.data = _plain(raw, "", doc.lines, [_MAX_NODES])
    except (_TooLarge, RecursionError):
        doc.lines.clear()
        doc.problem = LoadProblem("syntax", "aliases expand to too many values")
    return doc


class _TooLarge(Exception):
    pass


def _plain(node: Any, prefix: str, lines: dict[FieldPath, int], budget: list[int]) -> Any:
    """Convert ruamel's round-trip nodes to plain dicts/lists, recording lines on the way.

    Aliases are expanded, so `budget` bounds the work against alias bombs.
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(node, CommentedMap):
        result: dict[Any, Any] = {}
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            position = node.lc.data.get(key)
            if position:
                lines[path] = position[0] + 1
            result[key] = _plain(value, path, lines, budget)
        return result
    if isinstance(node, CommentedSeq):
        items = []
        for index, value in enumerate(node):
            path = f"{prefix}[{index}]"
            position = node.lc.data.get(index)
            if position:
                lines[path] = position[0] + 1
            items.append(_plain(value, path, lines, budget))
        return items
    # Drop ruamel's scalar subclasses (quoting styles, anchors): plain types compare simply.
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int) and not isinstance(node, bool):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _split(dotted: FieldPath) -> Iterator[str | int]:
    for part in dotted.split("."):
        name, _, rest = part.partition("[")
        if name:
            yield name
        while rest:
            index, _, rest = rest.partition("]")
            yield int(index)
            rest = rest.lstrip("[")


def _parent(dotted: FieldPath) -> FieldPath:
    if dotted.endswith("]"):
        return dotted[: dotted.rindex("[")]
    return dotted.rpartition(".")[0]
