"""The project's exceptions, and `raised_at`: all that may be logged of an unexpected one.

Imports nothing internal, so every layer may raise them and log where they came from.
"""

from __future__ import annotations

import traceback


def raised_at(error: BaseException) -> str:
    """Where `error` was raised, as `file.py:line`: what a masked error may log.

    Never the message or the stack trace: driver messages carry SQL, host names
    and sometimes customer data.
    """
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"


class GraphqlApiError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigError(GraphqlApiError):
    """A setting is missing or malformed; names the variable."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class UserInputError(GraphqlApiError):
    """A query argument a client sent is invalid (page size, cursor, ...)."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.message = message


class ValidationFailedError(GraphqlApiError):
    """A mutation's input breaks a rule; names the input field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class NotFoundError(GraphqlApiError):
    def __init__(self, kind: str, id: str, field: str) -> None:
        super().__init__(f"{kind} {id!r} does not exist")
        self.kind = kind
        self.id = id
        self.field = field
        self.message = str(self)


class VersionConflictError(GraphqlApiError):
    def __init__(self, customer_id: str, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"customer {customer_id!r} is at version {current_version}, "
            f"not the expected {expected_version}"
        )
        self.customer_id = customer_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.message = str(self)


class AlreadyExistsError(GraphqlApiError):
    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} already exists")
        self.kind = kind
        self.id = id
        self.message = str(self)


class StoreFailedError(GraphqlApiError):
    """One store could not answer (connection, timeout, throttling).

    `reason` is a short category safe to log and count; the driver's own
    message is never kept, because it can hold SQL, host names or data.
    """

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(f"{store} store failed: {reason}")
        self.store = store
        self.reason = reason


class StoreUnavailableError(GraphqlApiError):
    """No store could answer. Carries store names only, never driver messages."""

    def __init__(self, stores: tuple[str, ...]) -> None:
        super().__init__("no data store is available: " + ", ".join(stores))
        self.stores = stores


class OverloadedError(GraphqlApiError):
    """This process has more work than it can take now: a pooled store
    connection was not free in time, or too many requests are in flight.

    Not a store failure: nothing retries it, nothing falls back, no breaker
    counts it; the client is told to come back shortly (OVERLOADED).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"overloaded: {reason}")
        self.reason = reason


class FeedUnsupportedError(GraphqlApiError):
    """This server keeps no feed of events: none of its stores reads them in
    order (DynamoDB only), or the operation came over plain HTTP."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ResumeWindowError(GraphqlApiError):
    """A cursor too far behind to resume from: the client refetches and subscribes anew."""

    def __init__(self, window: int, behind: int) -> None:
        super().__init__(
            f"The cursor is {behind} events behind; a subscription resumes from at most"
            f" {window} events back. Read the current state, then subscribe without `after`."
        )
        self.window = window
        self.behind = behind
        self.message = str(self)


class SubscriptionLimitError(GraphqlApiError):
    """A caller holds as many live subscriptions as one may (`limit` names the bound)."""

    def __init__(self, limit: str, maximum: int) -> None:
        super().__init__(f"A caller may hold at most {maximum} subscriptions at once.")
        self.limit = limit
        self.maximum = maximum
        self.message = str(self)


class RequestTimedOutError(GraphqlApiError):
    """A request ran past GRAPHQL_API_REQUEST_TIMEOUT and was stopped."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(f"The request took longer than {timeout_s:g} s and was stopped.")
        self.timeout_s = timeout_s
        self.message = str(self)


class ContractSourceError(GraphqlApiError):
    """A schema, operation or changelog the contract check reads is missing or malformed."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


class UnreadableChangeError(GraphqlApiError):
    """graphql-core described a schema change in words the contract check cannot read.

    Its sentences are read back into coordinates; a new graphql-core may word them
    differently, and a change must never be dropped for that.
    """

    def __init__(self, kind: str, description: str) -> None:
        super().__init__(f"cannot read graphql-core's {kind} change: {description!r}")
        self.kind = kind
        self.description = description
