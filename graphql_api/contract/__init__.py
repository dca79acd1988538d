"""The schema contract: what changed between two schemas, classified.

changes.py (graphql-core's changes with their coordinates), deprecations.py, diff.py
(all changes).
"""
