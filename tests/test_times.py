"""The fast path's DateTime writer gives isoformat()'s text for every time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from graphql_api.fastpath.times import utc_isoformat

_OTHER_ZONES = st.builds(
    timezone, st.timedeltas(min_value=timedelta(hours=-23), max_value=timedelta(hours=23))
)


@given(st.datetimes(timezones=st.just(UTC)))
def test_utc_times_are_written_as_isoformat_writes_them(value: datetime) -> None:
    assert utc_isoformat(value) == value.isoformat()


@given(st.datetimes(timezones=st.none() | _OTHER_ZONES))
def test_other_times_are_written_by_isoformat(value: datetime) -> None:
    assert utc_isoformat(value) == value.isoformat()


def test_whole_seconds_have_no_fraction() -> None:
    # hypothesis finds microsecond 0 too; this names the case.
    assert utc_isoformat(datetime(2024, 5, 1, 9, 30, tzinfo=UTC)) == "2024-05-01T09:30:00+00:00"
