"""Full-jitter exponential backoff, shared by the chain's retries and DynamoDB's
UnprocessedKeys/UnprocessedItems loops."""

from __future__ import annotations


def full_jitter_delay(retry: int, *, base_s: float, cap_s: float, draw: float) -> float:
    """Seconds to wait before retry number `retry` (0 = the first retry).

    `draw` is uniform in [0, 1): full jitter spreads the retries of many
    clients over the whole window instead of synchronising them.
    """
    return draw * min(cap_s, base_s * 2.0**retry)
