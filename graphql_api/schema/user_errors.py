"""Expected mutation failures as typed results, each with a stable `code`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graphql_api import errors
from graphql_api.schema.customer import Customer


@strawberry.interface(description="An expected failure the client can act on.")
class UserError:
    code: str
    message: str


@strawberry.type
class NotFoundError(UserError):
    id: strawberry.ID


@strawberry.type
class ValidationError(UserError):
    field: str = strawberry.field(description="The input field that was wrong.")


@strawberry.type
class VersionConflictError(UserError):
    current_version: int


@strawberry.type
class AlreadyExistsError(UserError):
    id: strawberry.ID


CustomerResult = Annotated[
    Customer | NotFoundError | ValidationError | VersionConflictError | AlreadyExistsError,
    strawberry.union("CustomerResult"),
]

ExpectedFailure = (
    errors.NotFoundError,
    errors.ValidationFailedError,
    errors.VersionConflictError,
    errors.AlreadyExistsError,
)


def user_error(
    failure: errors.GraphqlApiError,
) -> NotFoundError | ValidationError | VersionConflictError | AlreadyExistsError:
    if isinstance(failure, errors.NotFoundError):
        return NotFoundError(
            code="NOT_FOUND", message=failure.message, id=strawberry.ID(failure.id)
        )
    if isinstance(failure, errors.ValidationFailedError):
        return ValidationError(code="VALIDATION", message=failure.message, field=failure.field)
    if isinstance(failure, errors.VersionConflictError):
        return VersionConflictError(
            code="VERSION_CONFLICT",
            message=failure.message,
            current_version=failure.current_version,
        )
    if isinstance(failure, errors.AlreadyExistsError):
        return AlreadyExistsError(
            code="ALREADY_EXISTS", message=failure.message, id=strawberry.ID(failure.id)
        )
    raise TypeError(f"not an expected failure: {type(failure).__name__}")
