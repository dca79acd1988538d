"""Who acts and what they may do: the roles a request carries into the schema.

The HTTP layer (web/auth.py) turns a token into a Principal; the schema checks
its roles and records its subject as the audit actor.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# customer_events.actor is VARCHAR(100); a longer subject could not be recorded.
ACTOR_MAX_LENGTH = 100


class Role(enum.Enum):
    VIEWER = "viewer"
    MANAGER = "manager"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller; `subject` is the token's `sub`, the audit actor."""

    subject: str | None
    roles: frozenset[Role]

    @property
    def may_query(self) -> bool:
        return bool(self.roles)

    @property
    def may_mutate(self) -> bool:
        return Role.MANAGER in self.roles


# Development without configured auth: everything allowed, no actor recorded.
AUTH_OFF = Principal(subject=None, roles=frozenset(Role))
