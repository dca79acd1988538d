"""Progress of a long run: a bar with rate and ETA on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from tqdm import tqdm

log = logging.getLogger("graphql_api.sync.progress")


class Progress:
    def __init__(
        self,
        *,
        label: str,
        total: int | None,
        stream: TextIO | None = None,
        interval_s: float = 5.0,
    ) -> None:
        stream = stream or sys.stderr
        self._label = label
        self._total = total
        self._interval_s = interval_s
        self._done = 0
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar = (
            tqdm(total=total, desc=label, unit="item", file=stream, dynamic_ncols=True)
            if stream.isatty()
            else None
        )

    def advance(self, count: int) -> None:
        self._done += count
        if self._bar is not None:
            self._bar.update(count)
            return
        now = time.monotonic()
        if now - self._last_line >= self._interval_s:
            self._last_line = now
            log.info("%s", self._line(now))

    def _line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        rate = self._done / elapsed
        line = f"{self._label}: {self._done} items, {rate:.0f}/s"
        if self._total and rate > 0 and self._done < self._total:
            line += f", about {(self._total - self._done) / rate:.0f} s left"
        return line

    def close(self) -> float:
        """Ends the bar or logs a last line; returns the items per second."""
        now = time.monotonic()
        if self._bar is not None:
            self._bar.close()
        else:
            log.info("%s (done)", self._line(now))
        return self._done / max(now - self._started, 1e-9)
