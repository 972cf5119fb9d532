"""Edits versions.yaml as text, so that a generated change keeps the file's comments and layout:
an entry of a top-level section is replaced or inserted whole (the comments of its lines carried
over by key), a `field: {…}` flow-map line is rewritten; every other line stays as it is."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

_ENTRY = re.compile(r'^  ("?)([\w.-]+)\1:(?:\s|$)')
_FLOW_VALUE = re.compile(r"^[\w./ -]+$")  # what a flow map holds unquoted here: stages, API versions


def flow(mapping: Mapping[str, str | Sequence[str]]) -> str:
    """{"1.37": "ga on", …} → '{"1.37": ga on, …}'; list values as [a, b] (the table's one-line style)."""
    def value(v: str | Sequence[str]) -> str:
        items = [v] if isinstance(v, str) else list(v)
        if not all(_FLOW_VALUE.match(i) for i in items):
            raise ValueError(f"{v!r} would need quoting in a flow map")
        return v if isinstance(v, str) else f"[{', '.join(items)}]"

    return "{" + ", ".join(f'"{k}": {value(v)}' for k, v in mapping.items()) + "}"


class TableText:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"

    def entries(self, section: str) -> dict[str, tuple[int, int]]:
        """Entry key → its line range [start, end) in top-level `section`, in file order."""
        start, end = self._section(section)
        heads = [(i, m.group(2)) for i in range(start, end) if (m := _ENTRY.match(self.lines[i]))]
        out = {}
        for n, (i, key) in enumerate(heads):
            stop = heads[n + 1][0] if n + 1 < len(heads) else end
            # Blank lines and comments at entry level before the next entry belong to that one.
            while stop > i + 1 and (not self.lines[stop - 1].strip() or self.lines[stop - 1].startswith("  #")):
                stop -= 1
            out[key] = (i, stop)
        return out

    def put_entry(self, section: str, key: str, new: list[str], before: str | None = None) -> None:
        """Replace entry `key` of `section` by `new`, or insert it before entry `before` (else last)."""
        entries = self.entries(section)
        if key in entries:
            start, end = entries[key]
            self.lines[start:end] = _carry_comments(self.lines[start:end], new)
            return
        at = entries[before][0] if before in entries else self._section(section)[1]
        self.lines[at:at] = new

    def set_flow_field(self, section: str, key: str, field: str, mapping: Mapping[str, str | Sequence[str]]) -> None:
        """Rewrite the one-line `field: {…}` of entry `key` to `mapping`; an empty mapping removes it."""
        start, end = self.entries(section)[key]
        pattern = re.compile(rf"^(\s+{re.escape(field)}: )\{{[^}}]*\}}(\s+#.*)?$")
        for i in range(start, end):
            if m := pattern.match(self.lines[i]):
                if mapping:
                    self.lines[i] = m.group(1) + flow(mapping) + (m.group(2) or "")
                else:
                    del self.lines[i]
                return
        if not mapping:
            return
        if end - start == 1:
            raise ValueError(f"{section}.{key} is a one-line entry: write it as a block to add {field}")
        self.lines.insert(end, f"    {field}: {flow(mapping)}")

    def _section(self, name: str) -> tuple[int, int]:
        try:
            start = self.lines.index(f"{name}:") + 1
        except ValueError:
            raise ValueError(f"versions.yaml has no top-level `{name}:`") from None
        end = next((i for i in range(start, len(self.lines)) if self.lines[i][:1] not in ("", " ")),
                   len(self.lines))
        while end > start and not self.lines[end - 1].strip():
            end -= 1
        return start, end


def _key_paths(lines: list[str]) -> list[tuple[tuple[str, ...], str]]:
    """(key path, trailing comment) per line: the path by indentation, e.g. ("1.34", "apis", "resource.k8s.io/v1")."""
    stack: list[tuple[int, str]] = []
    out = []
    for line in lines:
        content, _, comment = line.partition(" #")
        indent = len(content) - len(content.lstrip())
        key = content.strip().split(":", 1)[0].strip('"')
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        out.append((tuple(k for _, k in stack), "#" + comment if comment else ""))
    return out


def _carry_comments(old: list[str], new: list[str]) -> list[str]:
    comments = {path: (comment, old[i].index(comment)) for i, (path, comment) in enumerate(_key_paths(old))
                if comment}
    out = []
    for line, (path, own) in zip(new, _key_paths(new), strict=True):
        if path in comments and not own:
            comment, column = comments[path]
            line = line.ljust(column) + comment if len(line) < column - 1 else f"{line}  {comment}"
        out.append(line)
    return out
