"""Benchmarks: the GraphQL API against a hand-written REST peer and a naive GraphQL peer.

Benchmark code only; nothing in graphql_api imports it. `python -m bench run` is
`make bench`, `python -m bench smoke` is `make bench-smoke`.
"""
