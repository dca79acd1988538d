"""Finished spans as the SDK's in-memory exporter keeps them, and a wait for one to arrive.

A request's span ends after its response went out, so a test that has its answer
may not have the span yet; `wait_for` waits on the export itself, not on a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_WAIT_S = 10.0


class RecordingExporter(InMemorySpanExporter):
    def __init__(self) -> None:
        super().__init__()
        self._exported = threading.Condition()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._exported:
            result = super().export(spans)
            self._exported.notify_all()
        return result

    def wait_for(self, name: str) -> tuple[ReadableSpan, ...]:
        """The finished spans, once one named `name` is among them."""
        with self._exported:
            arrived = self._exported.wait_for(
                lambda: any(span.name == name for span in self.get_finished_spans()),
                timeout=_WAIT_S,
            )
        assert arrived, f"no span {name!r} within {_WAIT_S} s"
        return self.get_finished_spans()
