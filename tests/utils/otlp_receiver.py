"""An OTLP/HTTP trace receiver on a local port: what a collector would get, decoded."""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.utils.local_http import LocalHttpServer, QuietHandler


class OtlpReceiver(LocalHttpServer):
    """Takes POST /v1/traces (protobuf), keeps every request it decoded."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path != "/v1/traces":
                    self.answer(404, "text/plain", b"")
                    return
                with owner._lock:
                    owner.exports.append(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.answer(200, "application/x-protobuf", answer)

        super().__init__(Handler)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[tuple[dict[str, Any], Any]]:
        """Every span received, with its resource's attributes."""
        found = []
        with self._lock:
            for export in self.exports:
                for resource_spans in export.resource_spans:
                    attributes = resource_spans.resource.attributes
                    resource = {a.key: a.value.string_value for a in attributes}
                    for scope_spans in resource_spans.scope_spans:
                        found += [(resource, span) for span in scope_spans.spans]
        return found
