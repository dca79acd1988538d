"""DateTime values as the schema writes them, without isoformat()'s cost.

strawberry's DateTime writes `value.isoformat()`. For an aware time that is
the most expensive thing the fast path does per value: about 11,000 machine
instructions, most of it the UTC offset's formatting, and a history page
writes thousands of times. Every time the stores give is aware UTC, so its
text can be put together from prepared digit strings at half the cost. Any
other time (another zone, naive) is written by isoformat() itself.
tests/test_times.py holds utc_isoformat to isoformat() over generated times,
and the differential test holds the fast path's answers to strawberry's.
"""

from __future__ import annotations

from datetime import UTC, datetime

_TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))
_THREE_DIGITS = tuple(f"{number:03d}" for number in range(1000))
# The years stored data holds; any other formats itself (isoformat pads to four).
_YEARS = {year: f"{year:04d}" for year in range(1900, 2200)}


def utc_isoformat(value: datetime) -> str:
    """`value.isoformat()`, byte for byte."""
    if value.tzinfo is not UTC:
        return value.isoformat()
    two = _TWO_DIGITS
    year = _YEARS.get(value.year) or f"{value.year:04d}"
    micro = value.microsecond
    # isoformat() leaves the fraction out when it is 0, else writes six digits.
    fraction = f".{_THREE_DIGITS[micro // 1000]}{_THREE_DIGITS[micro % 1000]}" if micro else ""
    return (
        f"{year}-{two[value.month]}-{two[value.day]}"
        f"T{two[value.hour]}:{two[value.minute]}:{two[value.second]}{fraction}+00:00"
    )
