"""Response bodies as JSON: orjson's speed, json.dumps's bytes.

strawberry writes `json.dumps(data, separators=(",", ":"))`: printable ASCII only,
every other character escaped. orjson writes the same bytes for such text and
writes UTF-8 for the rest; so its output is kept when it is all ASCII, and
anything else (a name with an accent, a lone surrogate orjson refuses) is
written by json.dumps, byte for byte as before. tests/test_json_body.py holds
the two to each other over generated values.
"""

from __future__ import annotations

import json

import orjson


def encode_json(data: object) -> bytes:
    try:
        encoded = orjson.dumps(data)
    except (TypeError, orjson.JSONEncodeError):
        encoded = b"\x80"  # not ASCII: json.dumps decides, and raises what it raises
    # json.dumps also escapes DEL (0x7f), which is ASCII.
    if encoded.isascii() and b"\x7f" not in encoded:
        return encoded
    return json.dumps(data, separators=(",", ":")).encode()
