"""Rules for what a client may write, checked before any store is touched.

Limits follow the column sizes in sql/010_schema.sql; lengths count characters,
as utf8mb4 VARCHAR(n) does. Values are stored verbatim: nothing is trimmed or
escaped here, SQL parameters take care of quoting.
"""

from __future__ import annotations

import re
import secrets

from graphql_api.errors import ValidationFailedError
from graphql_api.stores.records import EDITABLE_CUSTOMER_FIELDS

ID_MAX_LENGTH = 20
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Deliberately simple: one @, no spaces, a dot in the domain. Real checking is a mail.
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
PHONE_PATTERN = re.compile(r"[0-9+()./ -]+")

NOTE_MAX_LENGTH = 500


def check_id(field: str, value: str) -> str:
    if not value:
        raise ValidationFailedError(field, f"{field} must not be empty")
    if len(value) > ID_MAX_LENGTH:
        raise ValidationFailedError(
            field, f"{field} is {len(value)} characters long; the limit is {ID_MAX_LENGTH}"
        )
    if not ID_PATTERN.fullmatch(value):
        raise ValidationFailedError(
            field,
            f"{field} may hold only letters, digits, '.', '_' and '-', "
            "and must start with a letter or digit",
        )
    return value


def check_text(field: str, value: str | None, *, max_length: int) -> str | None:
    if value is not None and len(value) > max_length:
        raise ValidationFailedError(
            field, f"{field} is {len(value)} characters long; the limit is {max_length}"
        )
    return value


def input_name(field: str) -> str:
    """The GraphQL input field of a record field, as errors name it: zip_code -> zipCode."""
    first, *rest = field.split("_")
    return first + "".join(word.capitalize() for word in rest)


def check_customer_field(field: str, value: str | None) -> str | None:
    """`field` is one of records.EDITABLE_CUSTOMER_FIELDS; errors name its input field."""
    check_text(input_name(field), value, max_length=EDITABLE_CUSTOMER_FIELDS[field])
    if field == "name" and (value is None or not _visible(value)):
        # Spaces, NULs and other control characters alone count as empty.
        raise ValidationFailedError("name", "name must not be empty")
    if field == "email" and value is not None and not EMAIL_PATTERN.fullmatch(value):
        raise ValidationFailedError("email", "email is not a valid email address")
    if field == "phone" and value is not None and not PHONE_PATTERN.fullmatch(value):
        raise ValidationFailedError("phone", "phone may hold only digits, spaces and + ( ) . / -")
    return value


def _visible(text: str) -> bool:
    """Whether any character shows: not only spaces, NULs or other control characters."""
    return any(character.isprintable() and not character.isspace() for character in text)


def check_note(value: str | None) -> str | None:
    return check_text("note", value, max_length=NOTE_MAX_LENGTH)


def check_expected_version(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ValidationFailedError("expectedVersion", "expectedVersion starts at 1")
    return value


def new_customer_id() -> str:
    """A fresh id of 18 characters: 'C-' and 64 random bits in hex."""
    return "C-" + secrets.token_hex(8).upper()
