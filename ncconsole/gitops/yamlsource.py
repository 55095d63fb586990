"""Reading YAML values files while remembering where each value came from (file and line).

Loading never raises for bad content: a file that cannot be parsed comes back with a
`problem` (message and line) instead of data, so one broken file never hides the others.

Parsing uses PyYAML's libyaml composer: ~35x faster than ruamel's round-trip loader, which
matters for repositories with thousands of tenant files, and it reads YAML 1.1 scalars
(`yes`, `no`, `on`) the way Helm and Argo CD (go-yaml) do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"

# A dotted path into a document; list items are written as `[i]`, e.g. `ingress.hosts[0].host`.
FieldPath = str

# Far more values than any Helm values file; stops alias bombs from expanding.
_MAX_NODES = 200_000


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
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = None if root is None else _Walker(loader, doc.lines).value(root, "")
        if data is None:
            doc.problem = LoadProblem("empty", "file holds no values")
        doc.data = data
    except yaml.MarkedYAMLError as err:
        doc.problem = _syntax_problem(err, len(text.rstrip()))
    except _BadKey as err:
        doc.problem = LoadProblem("syntax", err.message, err.line)
    except (_TooLarge, RecursionError):
        doc.problem = LoadProblem("syntax", "aliases expand to too many values")
    except yaml.YAMLError as err:
        doc.problem = LoadProblem("syntax", str(err).splitlines()[0] or "invalid YAML")
    except Exception as err:  # the parser's own failures on odd input must not escape
        doc.problem = LoadProblem("syntax", f"cannot parse YAML ({type(err).__name__})")
    finally:
        loader.dispose()
    if doc.problem is not None:
        doc.data = None
        doc.lines.clear()
    return doc


def _syntax_problem(err: yaml.MarkedYAMLError, end: int) -> LoadProblem:
    mark = err.problem_mark or err.context_mark
    message = err.problem or err.context or "invalid YAML"
    if mark is not None and mark.index >= end and err.context_mark:
        # Point at the unclosed bracket or quote, not at the end of the file.
        mark = err.context_mark
        message = f"{message} ({err.context} that starts on this line)"
    elif message.startswith("but ") and err.context:
        message = f"{err.context}, {message}"
    return LoadProblem("syntax", message, mark.line + 1 if mark else 1)


class _ValuesLoader(_Loader):  # type: ignore[misc,valid-type]
    """yaml.load's loader with the careful path's one extra rule: a key may appear once."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)  # cached: built once
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise _BadKey("found a list or mapping used as a key", 1) from None
            if duplicate:
                raise _BadKey(f'found duplicate key "{key}"', key_node.start_mark.line + 1)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def load_values(text: str) -> Any:
    """The plain data of a YAML document, without line numbers; None for a file that the
    careful path (`parse_yaml`) would report a problem for. About twice as fast: for
    readers that only want values, such as the console reading thousands of tenant files.
    Aliases are not expanded here (the objects are shared), so alias bombs cost nothing."""
    try:
        return yaml.load(text, Loader=_ValuesLoader)  # a SafeLoader: plain data only
    except (yaml.YAMLError, _BadKey, RecursionError):
        return None
    except Exception:  # the parser's own failures on odd input must not escape
        return None


class _TooLarge(Exception):
    pass


class _BadKey(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


class _Walker:
    """Builds plain dicts/lists from composed nodes, recording the line of every key and item.

    Aliases are expanded, so a node budget bounds the work against alias bombs.
    """

    def __init__(self, loader: Any, lines: dict[FieldPath, int]) -> None:
        self.loader = loader
        self.lines = lines
        self.budget = _MAX_NODES

    def value(self, node: Node, prefix: str) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        if isinstance(node, MappingNode):
            return self._mapping(node, prefix)
        if isinstance(node, SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                path = f"{prefix}[{index}]"
                self.lines.setdefault(path, item.start_mark.line + 1)
                items.append(self.value(item, path))
            return items
        return self.loader.construct_object(node)

    def _mapping(self, node: MappingNode, prefix: str) -> dict[Any, Any]:
        own: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node)
            if key in own:
                line = key_node.start_mark.line + 1
                raise _BadKey(f'found duplicate key "{key}"; each key may appear once', line)
            own.add(key)
        self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merges into node.value
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node)
            path = f"{prefix}.{key}" if prefix else str(key)
            self.lines[path] = key_node.start_mark.line + 1
            result[key] = self.value(value_node, path)
        return result

    def _key(self, node: Node) -> Any:
        key = self.loader.construct_object(node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise _BadKey(
                "found a list or mapping used as a key", node.start_mark.line + 1
            ) from None
        return key


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
