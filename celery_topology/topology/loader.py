"""Read topology.yaml safely, keeping the line and column of every key and value.

The YAML accepted is a strict subset: no anchors, aliases, merge keys, tags or tabs,
no duplicate keys, bounded size and depth, and none of YAML 1.1's silent retypings
(`no` as false, `12:30` as 750, `0077` as 63): those are refused with the fix named.
`${VAR}` and `${VAR:-default}` in string values are expanded by `env.py`.

libyaml (PyYAML's C parser) reads the file when PyYAML was built with it, about eight times
faster; on a syntax error the file is read again by the pure Python parser, whose messages
are the ones users see (libyaml words them differently).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from . import environments
from .document import Document, Mark, Path_
from .env import environment, expand

TOPOLOGY_ENV = "CELERY_TOPOLOGY_FILE"  # where the CLI, configure() and the scripts look first

# Bounds the work a file can cause. 1,000 pools and 10,000 routes take ~0.5 MB; 3,000 of each and
# 30,000 routes 1.5 MB. The worst case per byte (a flow list of 1M zeros) takes ~600 MB and 20 s.
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 32

_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_YAML11_BOOL = {"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N"}
_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+\.[0-9]*)([eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+")
_SPECIAL_FLOAT = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9]+(:[0-5]?[0-9])+(\.[0-9]*)?")
_OCTAL_LIKE = re.compile(r"[-+]?0[0-9_]+")
_UNDERSCORE_INT = re.compile(r"[-+]?[0-9][0-9_]*_[0-9_]*")
# libyaml when PyYAML has it; the pure parser words the errors.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Everything but \n, \r, printable ASCII, NEL and the printable rest of Unicode (YAML's set); written
# as the few ranges it holds, which compiles ten times faster than the negated ranges it leaves out.
_FORBIDDEN_CHAR = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def _mark(node: yaml.Node) -> Mark:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def parse(path: str | os.PathLike[str]) -> Document:
    """The file as written: `raw` (None if it cannot be parsed) and the marks, nothing merged or expanded;
    `resolve` makes of it the document of the base file or of any of its environments.

    Problems with single values (ambiguous scalars, duplicate keys) do not stop the parse, so that the
    model and the checks can report everything else too.
    """
    doc = Document(file=str(path))
    text = _text(doc, Path(path))
    if text is None:
        return doc
    if not _structure_ok(doc, text):
        return doc
    try:
        root = _compose(text)
    except yaml.YAMLError as exc:
        _yaml_problem(doc, exc)
        return doc
    if root is None or not isinstance(root, yaml.MappingNode):
        doc.note("the file must be a mapping that starts with `version: 1`", "not-a-mapping", (1, 1))
        return doc
    doc.raw = _build(doc, root, ())
    return doc


def resolve(parsed: Document, environ: dict[str, str] | None = None, env: str | None = None) -> Document:
    """A new document of `parsed` (left as it is) with environment `env` merged over it and `${VAR}` expanded:
    `data` is None if parsing failed. An unknown `env` raises UnknownEnvironment."""
    doc = replace(
        parsed,
        environment=env,
        key_marks=dict(parsed.key_marks),
        value_marks=dict(parsed.value_marks),
        problems=list(parsed.problems),
        references=dict(parsed.references),
        expanded=dict(parsed.expanded),
    )
    if doc.raw is None:
        return doc
    raw = doc.raw if env is None else environments.select(doc, doc.raw, env)
    doc.raw = raw
    # The overlays are expanded when merged, not as written: a variable only one environment sets is no error.
    written = {k: v for k, v in raw.items() if k != environments.KEY}
    doc.data = expand(doc, written, (), environment(doc, Path(doc.file), environ))
    if environments.KEY in raw:
        doc.data[environments.KEY] = raw[environments.KEY]
    return doc


def _text(doc: Document, path: Path) -> str | None:
    """The file's text, read no further than the size cap, or None with the problem noted."""
    try:
        with path.open("rb") as stream:
            blob = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        where = f"--file PATH or the {TOPOLOGY_ENV} environment variable"
        doc.note(f"cannot read the file: {path.resolve()} does not exist; name another with {where}", "file-unreadable")
        return None
    except OSError as exc:
        doc.note(f"cannot read the file: {exc.strerror}", "file-unreadable")
        return None
    if len(blob) > MAX_BYTES:
        doc.note(f"the file is larger than {MAX_BYTES} bytes; a topology is far smaller", "file-too-large")
        return None
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = blob.count(b"\n", 0, exc.start) + 1
        col = exc.start - blob.rfind(b"\n", 0, exc.start)
        doc.note(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", "file-encoding", (line, col))
        return None


def _compose(text: str) -> yaml.Node | None:
    """The node tree of `text`: by libyaml if PyYAML has it, else (or on a YAML error, for its wording) by the pure parser."""
    if _FAST_LOADER is not yaml.SafeLoader:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def _characters_ok(doc: Document, text: str) -> bool:
    """Refuse tabs and control characters, each at its line and column."""
    if _FORBIDDEN_CHAR.search(text) is None:  # one scan of the whole text; lines only to place what it finds
        return True
    for number, line in enumerate(text.split("\n"), 1):
        bad = _FORBIDDEN_CHAR.search(line)
        if bad is None:
            continue
        char = bad.group()
        message = f"control character U+{ord(char):04X}; remove it"
        if char == "\t":
            message = "tab character; indent and separate with spaces"
        code = "yaml-tab" if char == "\t" else "yaml-control-char"
        doc.note(message, code, (number, bad.start() + 1))
    return not doc.problems


def _structure_ok(doc: Document, text: str) -> bool:
    """Refuse anchors, aliases, tags and deep nesting before building anything."""
    if not _characters_ok(doc, text):
        return False
    if _FAST_LOADER is not yaml.SafeLoader:
        found = Document(doc.file)  # kept apart: on a YAML error the pure parser reads again and notes them
        try:
            _scan(found, yaml.parse(text, Loader=_FAST_LOADER))
            doc.problems += found.problems
            return not doc.problems
        except yaml.YAMLError:
            pass
    try:
        _scan(doc, yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        _yaml_problem(doc, exc)
    return not doc.problems


def _scan(doc: Document, events: Iterator[yaml.Event]) -> None:
    """Note every anchor, alias and tag among `events`; stop at the first mapping or list nested too deep."""
    depth = 0
    for event in events:
        start = event.start_mark
        mark = (start.line + 1, start.column + 1) if start else (1, 1)
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            doc.note("anchors and aliases are not allowed; write the value out", "yaml-alias", mark)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            doc.note(f"tags such as {tag} are not allowed; write a plain value", "yaml-tag", mark)
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                doc.note(f"nested deeper than {MAX_DEPTH} levels", "yaml-depth", mark)
                return
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _yaml_problem(doc: Document, exc: yaml.YAMLError) -> None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    what = getattr(exc, "problem", None) or str(exc)
    if "expected a single document" in str(exc):
        what = "more than one YAML document; a topology is one document"
    place = (mark.line + 1, mark.column + 1) if mark else None
    doc.note(f"not valid YAML: {' '.join(what.split())}", "yaml-syntax", place)


def _build(doc: Document, node: yaml.Node, path: Path_) -> Any:
    doc.value_marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key(doc, key_node, path)
            if key is None:
                continue
            if key in result:
                first = doc.key_marks[(*path, key)]
                message = f"duplicate key {key!r} (first at line {first[0]}); keep one"
                doc.note(message, "yaml-duplicate-key", _mark(key_node), (*path, key))
                continue
            doc.key_marks[(*path, key)] = _mark(key_node)
            result[key] = _build(doc, value_node, (*path, key))
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(doc, item, (*path, i)) for i, item in enumerate(node.value)]
    if "${" in node.value.partition("\n")[0]:
        quoted = 1 if getattr(node, "style", None) in ("'", '"') else 0
        line, col = _mark(node)
        doc.references[path] = (line, col + quoted + node.value.index("${"))
    return _scalar(doc, node, path)


def _key(doc: Document, node: yaml.Node, path: Path_) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        doc.note("a key must be a plain string", "yaml-complex-key", _mark(node), path)
        return None
    if not node.style and node.value == "<<":  # plain: style None (pure parser) or "" (libyaml)
        doc.note("merge keys (<<) are not allowed; write the keys out", "yaml-merge-key", _mark(node), path)
        return None
    value = _scalar(doc, node, (*path, node.value))
    if not isinstance(value, str):
        doc.note(f"key {node.value!r} is not a string; quote it", "yaml-key-type", _mark(node), (*path, node.value))
        return None
    return value


def _scalar(doc: Document, node: yaml.Node, path: Path_) -> Any:
    """Resolve a scalar by YAML 1.2's core schema; refuse what YAML 1.1 tools would read otherwise."""
    text = node.value
    if getattr(node, "style", None):  # quoted or block scalar: always a string; plain is None or "" (libyaml)
        return text
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    surprise = None
    if text in _YAML11_BOOL:
        surprise = f'unquoted {text!r} is a boolean to YAML 1.1 tools; write "{text}" for text or true/false for a flag'
    elif _SEXAGESIMAL.fullmatch(text):
        surprise = f'unquoted {text} is a base-60 number to YAML 1.1 tools; quote it ("{text}") or write seconds'
    elif _OCTAL_LIKE.fullmatch(text) or _UNDERSCORE_INT.fullmatch(text):
        surprise = f"unquoted {text} is read differently by YAML 1.1 tools (octal or digit groups); quote it or write plain digits"
    if surprise:
        doc.note(surprise, "yaml-ambiguous", _mark(node), path)
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _HEX.fullmatch(text):
        return int(text, 16)
    if _FLOAT.fullmatch(text) or _SPECIAL_FLOAT.fullmatch(text):
        return float(text.replace(".", "", 1) if _SPECIAL_FLOAT.fullmatch(text) else text)
    return text
