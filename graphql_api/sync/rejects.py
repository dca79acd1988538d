"""The rejects file: one JSON line per invalid item, with the reason. Never a silent drop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class RejectsFile:
    """Append-only; a resumed run does not record the same item twice."""

    def __init__(self, path: Path, *, resume: bool) -> None:
        self.path = path
        self._seen: set[tuple[str, str]] = set()
        if resume and path.exists():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                self._seen.add((entry["kind"], entry["key"]))
        else:
            path.write_text("")
        self.count = len(self._seen)

    def record(self, *, kind: str, key: str, reason: str, item: dict[str, Any]) -> None:
        if (kind, key) in self._seen:
            return
        self._seen.add((kind, key))
        self.count += 1
        line = json.dumps({"kind": kind, "key": key, "reason": reason, "item": item}, default=str)
        with self.path.open("a") as rejects:
            rejects.write(line + "\n")
