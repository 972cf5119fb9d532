"""Per-test diagnostics: what fixtures collect when a test fails (claims, slices, events, logs).

`diagnostics_sink(request_or_item, "claims.yaml", text)` stores the text under
`<run>/diagnostics/<test>/<name>`, attaches it to the test's Allure result and remembers it on the
item; the plugin ships that list with the test's report, so the controller (also under xdist)
puts it into results.json, the matrix (JSON/HTML/Markdown) and the certification bundle.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from reports import layout
from reports.context import DIAGNOSTICS_KEY, item_of, run_dir


def diagnostics_sink(target: Any, name: str, text: str | bytes) -> Path | None:
    """Store one diagnostics document for the test `target` (an Item or its FixtureRequest).

    Returns the written path, or None when reports are off (the Allure attachment is still made).
    Call it from a fixture's teardown/finalizer once the test is known to have failed.
    """
    item = item_of(target)
    if item is None:
        raise TypeError("diagnostics_sink needs the test item or a function-scoped request")
    data = text.encode() if isinstance(text, str) else text
    _attach_to_allure(name, data)
    root = run_dir(item)
    if root is None:
        return None
    folder = root / layout.DIAGNOSTICS / layout.safe_name(item.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    path = _unique(folder / layout.safe_name(name, 80))
    path.write_bytes(data)
    entries = item.stash.setdefault(DIAGNOSTICS_KEY, [])
    entries.append({"name": name, "path": path.relative_to(root).as_posix()})
    return path


def _unique(path: Path) -> Path:
    # The same name twice (e.g. events before and after a retry) keeps both documents.
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def _attach_to_allure(name: str, data: bytes) -> None:
    try:
        import allure
    except ImportError:  # allure-pytest missing: the file on disk is enough
        return
    kinds = {".json": allure.attachment_type.JSON, ".yaml": allure.attachment_type.YAML,
             ".yml": allure.attachment_type.YAML}
    suffix = Path(name).suffix.lower()
    # Outside a test's Allure context (e.g. no test running) there is nothing to attach to.
    with contextlib.suppress(Exception):
        allure.attach(data, name=name, attachment_type=kinds.get(suffix, allure.attachment_type.TEXT))
