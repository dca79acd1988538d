"""Arguments every entry point checks the same way."""

from __future__ import annotations

from graphql_api import validation
from graphql_api.errors import UserInputError, ValidationFailedError


def id_argument(argument: str, value: str) -> str:
    """An id argument, checked: BAD_USER_INPUT naming the argument when malformed."""
    try:
        return validation.check_id(argument, value)
    except ValidationFailedError as error:
        raise UserInputError(argument, error.message) from None
