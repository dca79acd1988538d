"""One frozen settings object, parsed from a mapping (normally os.environ).

Parsing only: nothing here opens a connection. A malformed value raises
ConfigError naming the variable, so a bad deployment stops at start-up.
The old deployment's variable names (RDS_*, STUDENT_MODE) keep working.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from graphql_api.errors import ConfigError


class Environment(enum.Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class StoreKind(enum.Enum):
    MYSQL = "mysql"
    MEMORY = "memory"


@dataclass(frozen=True, slots=True)
class MySQLSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str
    pool_size: int
    connect_timeout_s: float
    query_timeout_s: float


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment
    stores: tuple[StoreKind, ...]
    mysql: MySQLSettings | None
    max_page_size: int
    graphiql: bool
    log_level: str

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class _Reader:
    """Typed access to one mapping; every failure names the variable."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self._env.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def required(self, name: str, why: str) -> str:
        value = self.text(name)
        if value is None:
            raise ConfigError(name, f"is required {why}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self._env.get(name)
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(name, f"expected true or false, got {value!r}")

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, f"expected an integer, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high}, got {number}")
        return number

    def seconds(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise ConfigError(name, f"expected a number of seconds, got {value!r}") from None
        if not low <= number <= high:
            raise ConfigError(name, f"must be between {low} and {high} seconds, got {number}")
        return number

    def choice(self, name: str, enum_type: type[enum.Enum], default: enum.Enum) -> enum.Enum:
        value = self.text(name)
        if value is None:
            return default
        try:
            return enum_type(value.lower())
        except ValueError:
            allowed = ", ".join(str(member.value) for member in enum_type)
            raise ConfigError(name, f"expected one of {allowed}, got {value!r}") from None


def _mysql_settings(read: _Reader) -> MySQLSettings:
    why = "when the mysql store is used"
    return MySQLSettings(
        host=read.required("RDS_ENDPOINT", why),
        port=read.integer("RDS_PORT", 3306, low=1, high=65535),
        user=read.required("RDS_USERNAME", why),
        password=read.text("RDS_PASSWORD", "") or "",
        database=read.text("RDS_DATABASE", "salepoint_db") or "salepoint_db",
        pool_size=read.integer("GRAPHQL_API_MYSQL_POOL_SIZE", 10, low=1, high=500),
        connect_timeout_s=read.seconds(
            "GRAPHQL_API_MYSQL_CONNECT_TIMEOUT", 5.0, low=0.1, high=120.0
        ),
        query_timeout_s=read.seconds("GRAPHQL_API_MYSQL_QUERY_TIMEOUT", 5.0, low=0.1, high=300.0),
    )


def _store_order(read: _Reader) -> tuple[StoreKind, ...]:
    """The configured order, else what the environment implies.

    STUDENT_MODE (accounts without AWS access) means the in-memory store only.
    The in-memory store is never appended as a fallback behind a real store.
    """
    if read.flag("STUDENT_MODE", False):
        return (StoreKind.MEMORY,)
    configured = read.text("GRAPHQL_API_STORES")
    if configured is None:
        return (StoreKind.MYSQL,) if read.text("RDS_ENDPOINT") else (StoreKind.MEMORY,)
    names = [name.strip().lower() for name in configured.split(",") if name.strip()]
    kinds: list[StoreKind] = []
    for name in names:
        try:
            kind = StoreKind(name)
        except ValueError:
            allowed = ", ".join(kind.value for kind in StoreKind)
            raise ConfigError(
                "GRAPHQL_API_STORES", f"unknown store {name!r}; expected {allowed}"
            ) from None
        if kind in kinds:
            raise ConfigError("GRAPHQL_API_STORES", f"store {name!r} is listed twice")
        kinds.append(kind)
    if not kinds:
        raise ConfigError("GRAPHQL_API_STORES", "names no store")
    return tuple(kinds)


def load_settings(env: Mapping[str, str]) -> Settings:
    read = _Reader(env)
    environment = read.choice("GRAPHQL_API_ENV", Environment, Environment.DEVELOPMENT)
    assert isinstance(environment, Environment)
    stores = _store_order(read)
    mysql = _mysql_settings(read) if StoreKind.MYSQL in stores else None
    log_level = (read.text("GRAPHQL_API_LOG_LEVEL", "INFO") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("GRAPHQL_API_LOG_LEVEL", f"unknown level {log_level!r}")
    return Settings(
        environment=environment,
        stores=stores,
        mysql=mysql,
        max_page_size=read.integer("GRAPHQL_API_MAX_PAGE_SIZE", 100, low=1, high=10_000),
        graphiql=read.flag("GRAPHQL_API_GRAPHIQL", environment is Environment.DEVELOPMENT),
        log_level=log_level,
    )
