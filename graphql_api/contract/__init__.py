"""The schema contract: what changed since the released snapshot, and whom it reaches.

sources.py (the base: a file or a git ref), changes.py (graphql-core's changes with
their coordinates), deprecations.py, diff.py (all changes), operations.py (the client
operations and what they use), changelog.py (schema-changes.md), check.py (the verdict),
render.py (text, JSON), commands.py (`graphql-api schema ...`).
"""
