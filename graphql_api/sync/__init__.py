"""Keeping MySQL and the DynamoDB fallback in step: migrations, the outbox relay, verify.

Not on a request path, except the relay, which runs beside the server.
"""
