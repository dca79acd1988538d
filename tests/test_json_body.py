"""The response encoder writes exactly the bytes strawberry's json.dumps wrote."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_api.web.json_body import encode_json

_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(max_codepoint=0x7F)),
    st.sampled_from(["", '"', "\\", "\x00", "\x1f", "\x7f", "\u2028", "Zürich", "\ud800", "/"]),
)
_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        _TEXT,
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(_TEXT, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=500, derandomize=True, database=None)
@given(_VALUES)
def test_bodies_are_the_bytes_json_dumps_writes(value: Any) -> None:
    assert encode_json(value) == json.dumps(value, separators=(",", ":")).encode()
