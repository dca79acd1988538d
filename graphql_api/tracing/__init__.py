"""OpenTelemetry tracing: off by default, and then nothing of it runs.

With `OTEL_TRACES_EXPORTER=otlp` the app gets (tracing/setup.py wires them):
a span per API request (requests.py), per GraphQL operation with its name, type
and cost (operations.py), and per store call with `db.system` and the call's
name, never its values (stores.py); fallbacks and breaker transitions are events
on the operation's span. Off, none of these modules is imported.
"""
