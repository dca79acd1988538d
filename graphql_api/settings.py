"""One frozen settings object, parsed from a mapping (normally os.environ).

Parsing only: nothing here opens a connection. A malformed value raises
ConfigError naming the variable, so a bad deployment stops at start-up.
The old deployment's variable names (RDS_*, STUDENT_MODE) keep working.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from graphql_api.errors import ConfigError

# Where the workers of one server share their metrics; prometheus_client reads it too.
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# The source checkout, whose sql/ and graphiql/dist are used unless configured elsewhere.
_CHECKOUT = Path(__file__).resolve().parents[1]


class Environment(enum.Enum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(enum.Enum):
    """How log lines are written: one JSON object each (production), or readable text."""

    JSON = "json"
    TEXT = "text"


class StoreKind(enum.Enum):
    MYSQL = "mysql"
    DYNAMODB = "dynamodb"
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
    # How long a request waits for a pooled connection when all are in use;
    # past it the request is refused as overload (OVERLOADED), not a failure.
    pool_wait_s: float = 1.0
    # Queries go here when set (RDS_READER_ENDPOINT); mutations always use `host`.
    reader_host: str | None = None


@dataclass(frozen=True, slots=True)
class DynamoDBSettings:
    table: str
    region: str
    # A local or test endpoint; None means the region's AWS endpoint.
    endpoint_url: str | None
    # Each DynamoDB call, connection included, is bounded by this.
    timeout_s: float
    # Explicit keys when given; otherwise the AWS default chain (role, profile).
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ResilienceSettings:
    """Bounded retries and a circuit breaker per store (see stores/chain.py)."""

    # Attempts in all for one read on one store before the next store answers.
    attempts_per_store: int = 3
    # Full-jitter backoff: sleep uniform(0, min(max, base * 2**retry)).
    retry_base_delay_s: float = 0.05
    retry_max_delay_s: float = 0.5
    # Consecutive failures that open a store's breaker, and how long it stays open.
    breaker_failure_threshold: int = 5
    breaker_cooldown_s: float = 5.0


@dataclass(frozen=True, slots=True)
class JwtSettings:
    """Bearer tokens: HS256 with `secret`, RS256/ES256 with the key in `public_key_file`,
    or the keys a JWKS URL publishes (exactly one of the three)."""

    secret: str | None = field(repr=False)
    public_key_file: Path | None
    issuer: str | None
    audience: str | None
    roles_claim: str
    leeway_s: float
    # The furthest `exp` a token may carry: a token that never expires (or
    # expires in 10**400 seconds) is refused, not trusted forever.
    max_lifetime_s: float = 86_400.0
    jwks_url: str | None = None
    # The key set is fetched again once it is this old (in the background).
    jwks_lifetime_s: float = 300.0
    # A token naming an unknown key fetches the set again at most this often.
    jwks_min_refresh_s: float = 30.0


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one request may ask for; every limit is checked before any resolver runs."""

    max_depth: int = 8
    max_aliases: int = 15
    max_tokens: int = 2000
    # Validation's work on repeated fields (schema/field_merges.py): past this a
    # document is refused before it is validated. The project's operations need
    # under 100; 5,000 is about 40 ms of validation at worst.
    max_field_merges: int = 5_000
    max_cost: int = 100_000
    max_batch_operations: int = 10
    max_body_bytes: int = 64 * 1024
    # No GraphQL request runs longer than this: a stalled store or a slow
    # resolver ends in a TIMEOUT error, never a hanging request.
    request_timeout_s: float = 10.0
    # GraphQL requests one worker takes at once, and of those one caller;
    # past either, 503 OVERLOADED at once (web/admission.py).
    max_in_flight: int = 64
    max_in_flight_per_caller: int = 32
    # A body must have arrived by then (408): a client that stalls mid-body
    # holds its connection no longer.
    body_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class ServingSettings:
    cors_origins: tuple[str, ...] = ()
    workers: int = 1
    # Below the 30 s most orchestrators wait between SIGTERM and SIGKILL.
    shutdown_timeout_s: int = 20
    ready_timeout_s: float = 1.0
    # Set when several worker processes share their metrics through files there
    # (`serve` sets it for its workers); /metrics then reports them all.
    metrics_dir: Path | None = None
    # Response bodies of this many bytes or more are compressed (zstd or gzip)
    # when the client accepts it; None: never (a proxy in front compresses).
    compression_min_bytes: int | None = 1024


@dataclass(frozen=True, slots=True)
class DocumentSettings:
    """Documents sent by hash (web/trusted_documents.py)."""

    # A persisted query manifest (`graphql-api documents manifest`): the trusted documents.
    manifest: Path | None = None
    # Run the manifest's documents and nothing else (production's allow-list).
    only_trusted: bool = False


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """The live feed of customer events (graphql_api/feed/, README "Live updates")."""

    # Each process reads customer_events once per interval for all its subscribers.
    poll_interval_s: float = 0.5
    # How far back (in events) a cursor may resume a subscription from.
    resume_window: int = 10_000
    # An event id seen missing (taken by a transaction not yet committed) holds
    # back the events after it at most this long; then it is given up as rolled back.
    gap_timeout_s: float = 10.0
    # Subscriptions one process serves at once, of them one caller's (token
    # subject; address with auth off), and one connection holds.
    max_subscriptions: int = 10_000
    max_subscriptions_per_caller: int = 100
    max_subscriptions_per_connection: int = 20
    # Websocket connections one caller holds at once (past it: closed with 1008).
    max_connections_per_caller: int = 20
    # Messages waiting for one slow subscriber before its connection is closed.
    buffer_messages: int = 1_000
    # The largest message a client may send over the websocket.
    max_message_bytes: int = 16 * 1024
    # A protocol ping every this many seconds; no pong within as long closes the socket.
    keepalive_s: float = 15.0
    # The time a new connection has to send connection_init.
    init_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Directories:
    """Files the server and `db init` read; by default those of the source checkout."""

    # The files `db init` applies, in name order (the image sets /app/sql).
    sql: Path = _CHECKOUT / "sql"
    # The GraphiQL bundle `make graphiql` builds (the image sets /app/graphiql).
    graphiql: Path = _CHECKOUT / "graphiql" / "dist"


@dataclass(frozen=True, slots=True)
class Settings:
    environment: Environment
    stores: tuple[StoreKind, ...]
    mysql: MySQLSettings | None
    max_page_size: int
    graphiql: bool
    log_level: str
    # Readable lines in development, JSON objects in production (GRAPHQL_API_LOG_FORMAT).
    log_format: LogFormat = LogFormat.JSON
    dynamodb: DynamoDBSettings | None = None
    resilience: ResilienceSettings = field(default_factory=ResilienceSettings)
    # Drain the outbox to DynamoDB from this process (when MySQL leads and DynamoDB follows).
    outbox_relay: bool = True
    # How often the relay measures the outbox backlog (its gauges and log line).
    outbox_backlog_interval_s: float = 10.0
    # None: authentication is off (development only).
    auth: JwtSettings | None = None
    limits: QueryLimits = QueryLimits()
    serving: ServingSettings = ServingSettings()
    feed: FeedSettings = FeedSettings()
    directories: Directories = Directories()
    # Queries it covers skip strawberry's execution (graphql_api/fastpath/); off,
    # strawberry answers everything, byte for byte the same.
    fast_path: bool = True
    documents: DocumentSettings = DocumentSettings()
    # OpenTelemetry spans exported over OTLP (OTEL_TRACES_EXPORTER=otlp); off, no
    # tracing code runs at all (graphql_api/tracing/).
    tracing: bool = False

    @property
    def keeps_fallback_fresh(self) -> bool:
        """MySQL takes the writes and DynamoDB serves as its fallback: changes need an outbox."""
        return self.stores[0] is StoreKind.MYSQL and StoreKind.DYNAMODB in self.stores

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

    def http_url(self, name: str) -> str | None:
        url = self.text(name)
        if url is None:
            return None
        scheme, _, rest = url.partition("://")
        if scheme not in {"http", "https"} or not rest or any(c.isspace() for c in url):
            raise ConfigError(name, f"expected an http(s) URL, got {url!r}")
        return url

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return None if value is None else Path(value)

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
        pool_wait_s=read.seconds("GRAPHQL_API_MYSQL_POOL_WAIT", 1.0, low=0.01, high=60.0),
        reader_host=read.text("RDS_READER_ENDPOINT"),
    )


def dynamodb_settings(env: Mapping[str, str]) -> DynamoDBSettings:
    """DynamoDB settings alone, for the `dynamodb` commands and the store."""
    read = _Reader(env)
    why = "when the dynamodb store is used"
    return DynamoDBSettings(
        table=read.required("DYNAMODB_TABLE", why),
        region=read.text("AWS_REGION") or read.required("AWS_DEFAULT_REGION", why),
        endpoint_url=read.http_url("DYNAMODB_ENDPOINT_URL"),
        timeout_s=read.seconds("GRAPHQL_API_DYNAMODB_TIMEOUT", 3.0, low=0.1, high=120.0),
        access_key_id=read.text("AWS_ACCESS_KEY_ID"),
        secret_access_key=read.text("AWS_SECRET_ACCESS_KEY"),
        session_token=read.text("AWS_SESSION_TOKEN"),
    )


def _resilience_settings(read: _Reader) -> ResilienceSettings:
    default = ResilienceSettings()
    base = read.seconds("GRAPHQL_API_RETRY_BASE_DELAY", default.retry_base_delay_s, low=0, high=10)
    cap = read.seconds("GRAPHQL_API_RETRY_MAX_DELAY", default.retry_max_delay_s, low=0, high=60)
    if cap < base:
        raise ConfigError(
            "GRAPHQL_API_RETRY_MAX_DELAY",
            f"must not be below GRAPHQL_API_RETRY_BASE_DELAY ({base}), got {cap}",
        )
    return ResilienceSettings(
        attempts_per_store=read.integer(
            "GRAPHQL_API_STORE_ATTEMPTS", default.attempts_per_store, low=1, high=10
        ),
        retry_base_delay_s=base,
        retry_max_delay_s=cap,
        breaker_failure_threshold=read.integer(
            "GRAPHQL_API_BREAKER_FAILURES", default.breaker_failure_threshold, low=1, high=1000
        ),
        breaker_cooldown_s=read.seconds(
            "GRAPHQL_API_BREAKER_COOLDOWN", default.breaker_cooldown_s, low=0.01, high=600
        ),
    )


def _implied_store_order(read: _Reader) -> tuple[StoreKind, ...]:
    """MySQL when RDS_ENDPOINT is set, then DynamoDB when DYNAMODB_TABLE is set."""
    kinds = []
    if read.text("RDS_ENDPOINT"):
        kinds.append(StoreKind.MYSQL)
    if read.text("DYNAMODB_TABLE"):
        kinds.append(StoreKind.DYNAMODB)
    return tuple(kinds) or (StoreKind.MEMORY,)


def _store_order(read: _Reader, environment: Environment) -> tuple[StoreKind, ...]:
    """The configured order, else what the environment implies.

    STUDENT_MODE (accounts without AWS access) means the in-memory store only.
    The in-memory store is never combined with a real store, so it cannot
    become a silent fallback, and production serves it only when
    GRAPHQL_API_STORES names it.
    """
    configured = read.text("GRAPHQL_API_STORES")
    if read.flag("STUDENT_MODE", False):
        kinds: tuple[StoreKind, ...] = (StoreKind.MEMORY,)
    elif configured is None:
        kinds = _implied_store_order(read)
    else:
        kinds = _configured_store_order(configured)
    if StoreKind.MEMORY in kinds and len(kinds) > 1:
        raise ConfigError(
            "GRAPHQL_API_STORES", "the in-memory store cannot be combined with other stores"
        )
    named = configured is not None and configured.strip().lower() == StoreKind.MEMORY.value
    if kinds == (StoreKind.MEMORY,) and environment is Environment.PRODUCTION and not named:
        raise ConfigError(
            "GRAPHQL_API_STORES",
            "production refuses the in-memory demo store unless GRAPHQL_API_STORES=memory"
            " names it; configure RDS_ENDPOINT and/or DYNAMODB_TABLE",
        )
    return kinds


def _configured_store_order(configured: str) -> tuple[StoreKind, ...]:
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


# HS256 keys shorter than the hash output are guessable offline from one token.
_MIN_SECRET_LENGTH = 32
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def _jwt_settings(read: _Reader) -> JwtSettings | None:
    secret = read.text("GRAPHQL_API_JWT_SECRET")
    key_file = read.text("GRAPHQL_API_JWT_PUBLIC_KEY_FILE")
    jwks_url = read.http_url("GRAPHQL_API_JWT_JWKS_URL")
    given = [
        name
        for name, value in (
            ("GRAPHQL_API_JWT_SECRET", secret),
            ("GRAPHQL_API_JWT_PUBLIC_KEY_FILE", key_file),
            ("GRAPHQL_API_JWT_JWKS_URL", jwks_url),
        )
        if value is not None
    ]
    if not given:
        return None
    if len(given) > 1:
        raise ConfigError(given[-1], f"set one way to check tokens, not also {given[0]}")
    if secret is not None and len(secret) < _MIN_SECRET_LENGTH:
        raise ConfigError(
            "GRAPHQL_API_JWT_SECRET", f"must be at least {_MIN_SECRET_LENGTH} characters long"
        )
    return JwtSettings(
        secret=secret,
        public_key_file=None if key_file is None else Path(key_file),
        issuer=read.text("GRAPHQL_API_JWT_ISSUER"),
        audience=read.text("GRAPHQL_API_JWT_AUDIENCE"),
        roles_claim=read.text("GRAPHQL_API_JWT_ROLES_CLAIM", "roles") or "roles",
        leeway_s=read.seconds("GRAPHQL_API_JWT_LEEWAY", 30.0, low=0.0, high=300.0),
        max_lifetime_s=read.seconds(
            "GRAPHQL_API_JWT_MAX_LIFETIME", 86_400.0, low=60.0, high=31 * 86_400.0
        ),
        jwks_url=jwks_url,
        jwks_lifetime_s=read.seconds("GRAPHQL_API_JWT_JWKS_CACHE", 300.0, low=1.0, high=86_400.0),
        jwks_min_refresh_s=read.seconds(
            "GRAPHQL_API_JWT_JWKS_MIN_REFRESH", 30.0, low=0.0, high=3600.0
        ),
    )


def _query_limits(read: _Reader) -> QueryLimits:
    default = QueryLimits()
    return QueryLimits(
        max_depth=read.integer("GRAPHQL_API_MAX_DEPTH", default.max_depth, low=1, high=100),
        max_aliases=read.integer("GRAPHQL_API_MAX_ALIASES", default.max_aliases, low=0, high=1000),
        max_tokens=read.integer(
            "GRAPHQL_API_MAX_TOKENS", default.max_tokens, low=10, high=1_000_000
        ),
        max_field_merges=read.integer(
            "GRAPHQL_API_MAX_FIELD_MERGES", default.max_field_merges, low=10, high=10_000_000
        ),
        max_cost=read.integer("GRAPHQL_API_MAX_COST", default.max_cost, low=1, high=10_000_000),
        max_batch_operations=read.integer(
            "GRAPHQL_API_MAX_BATCH_OPERATIONS", default.max_batch_operations, low=1, high=1000
        ),
        max_body_bytes=read.integer(
            "GRAPHQL_API_MAX_BODY_BYTES", default.max_body_bytes, low=1024, high=64 * 1024 * 1024
        ),
        request_timeout_s=read.seconds(
            "GRAPHQL_API_REQUEST_TIMEOUT", default.request_timeout_s, low=0.1, high=600.0
        ),
        body_timeout_s=read.seconds(
            "GRAPHQL_API_BODY_TIMEOUT", default.body_timeout_s, low=0.1, high=600.0
        ),
        max_in_flight=read.integer(
            "GRAPHQL_API_MAX_IN_FLIGHT", default.max_in_flight, low=1, high=100_000
        ),
        max_in_flight_per_caller=read.integer(
            "GRAPHQL_API_MAX_IN_FLIGHT_PER_CALLER",
            default.max_in_flight_per_caller,
            low=1,
            high=100_000,
        ),
    )


def _cors_origins(read: _Reader) -> tuple[str, ...]:
    configured = read.text("GRAPHQL_API_CORS_ORIGINS", "") or ""
    origins = tuple(origin.strip() for origin in configured.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ConfigError(
                "GRAPHQL_API_CORS_ORIGINS",
                f"{origin!r} is not an origin like https://app.example.com (no path, no slash)",
            )
    return origins


def _serving_settings(read: _Reader) -> ServingSettings:
    default = ServingSettings()
    return ServingSettings(
        cors_origins=_cors_origins(read),
        workers=read.integer("GRAPHQL_API_WORKERS", default.workers, low=1, high=64),
        shutdown_timeout_s=read.integer(
            "GRAPHQL_API_SHUTDOWN_TIMEOUT", default.shutdown_timeout_s, low=0, high=600
        ),
        ready_timeout_s=read.seconds(
            "GRAPHQL_API_READY_TIMEOUT", default.ready_timeout_s, low=0.05, high=60.0
        ),
        metrics_dir=read.path(MULTIPROCESS_DIR_VARIABLE),
        compression_min_bytes=(
            read.integer("GRAPHQL_API_COMPRESSION_MIN_BYTES", 1024, low=0, high=64 * 1024 * 1024)
            if read.flag("GRAPHQL_API_COMPRESSION", True)
            else None
        ),
    )


def _feed_settings(read: _Reader) -> FeedSettings:
    default = FeedSettings()
    return FeedSettings(
        poll_interval_s=read.seconds(
            "GRAPHQL_API_FEED_POLL_INTERVAL", default.poll_interval_s, low=0.01, high=60.0
        ),
        resume_window=read.integer(
            "GRAPHQL_API_FEED_RESUME_WINDOW", default.resume_window, low=0, high=10_000_000
        ),
        gap_timeout_s=read.seconds(
            "GRAPHQL_API_FEED_GAP_TIMEOUT", default.gap_timeout_s, low=0.0, high=3600.0
        ),
        max_subscriptions=read.integer(
            "GRAPHQL_API_FEED_MAX_SUBSCRIPTIONS", default.max_subscriptions, low=0, high=1_000_000
        ),
        max_subscriptions_per_caller=read.integer(
            "GRAPHQL_API_FEED_MAX_SUBSCRIPTIONS_PER_CALLER",
            default.max_subscriptions_per_caller,
            low=1,
            high=1_000_000,
        ),
        max_subscriptions_per_connection=read.integer(
            "GRAPHQL_API_WS_MAX_SUBSCRIPTIONS",
            default.max_subscriptions_per_connection,
            low=1,
            high=10_000,
        ),
        max_connections_per_caller=read.integer(
            "GRAPHQL_API_WS_MAX_CONNECTIONS_PER_CALLER",
            default.max_connections_per_caller,
            low=1,
            high=1_000_000,
        ),
        buffer_messages=read.integer(
            "GRAPHQL_API_FEED_BUFFER", default.buffer_messages, low=1, high=1_000_000
        ),
        max_message_bytes=read.integer(
            "GRAPHQL_API_WS_MAX_MESSAGE_BYTES", default.max_message_bytes, low=256, high=1 << 24
        ),
        keepalive_s=read.seconds(
            "GRAPHQL_API_WS_KEEPALIVE", default.keepalive_s, low=0.1, high=600
        ),
        init_timeout_s=read.seconds(
            "GRAPHQL_API_WS_INIT_TIMEOUT", default.init_timeout_s, low=0.1, high=600
        ),
    )


def directories(env: Mapping[str, str]) -> Directories:
    """The directories alone, for `db init` and the tests (admin/sqlfiles.sql_dir)."""
    read = _Reader(env)
    default = Directories()
    return Directories(
        sql=read.path("GRAPHQL_API_SQL_DIR") or default.sql,
        graphiql=read.path("GRAPHQL_API_GRAPHIQL_DIR") or default.graphiql,
    )


def _document_settings(read: _Reader) -> DocumentSettings:
    manifest = read.path("GRAPHQL_API_TRUSTED_DOCUMENTS")
    only_trusted = read.flag("GRAPHQL_API_TRUSTED_DOCUMENTS_ONLY", False)
    if only_trusted and manifest is None:
        raise ConfigError(
            "GRAPHQL_API_TRUSTED_DOCUMENTS_ONLY",
            "needs the manifest of trusted documents: set GRAPHQL_API_TRUSTED_DOCUMENTS",
        )
    return DocumentSettings(manifest=manifest, only_trusted=only_trusted)


def _check_production(settings: Settings) -> None:
    """Production refuses to start without authentication.

    (Its other refusal, the in-memory store unless named, is in _store_order.)
    """
    if settings.is_production and settings.auth is None:
        raise ConfigError(
            "GRAPHQL_API_JWT_SECRET",
            "production needs authentication: set it, GRAPHQL_API_JWT_PUBLIC_KEY_FILE"
            " or GRAPHQL_API_JWT_JWKS_URL",
        )


def _log_format(read: _Reader, environment: Environment) -> LogFormat:
    default = LogFormat.JSON if environment is Environment.PRODUCTION else LogFormat.TEXT
    chosen = read.choice("GRAPHQL_API_LOG_FORMAT", LogFormat, default)
    assert isinstance(chosen, LogFormat)
    return chosen


def _tracing(read: _Reader) -> bool:
    """OTEL_TRACES_EXPORTER=otlp turns tracing on. Unlike the SDK's own default
    (otlp), unset means off here: off costs nothing. OTEL_SDK_DISABLED wins."""
    if read.flag("OTEL_SDK_DISABLED", False):
        return False
    exporter = (read.text("OTEL_TRACES_EXPORTER", "none") or "none").lower()
    if exporter not in {"otlp", "none"}:
        raise ConfigError("OTEL_TRACES_EXPORTER", f"expected otlp or none, got {exporter!r}")
    return exporter == "otlp"


def load_settings(env: Mapping[str, str]) -> Settings:
    read = _Reader(env)
    environment = read.choice("GRAPHQL_API_ENV", Environment, Environment.DEVELOPMENT)
    assert isinstance(environment, Environment)
    stores = _store_order(read, environment)
    mysql = _mysql_settings(read) if StoreKind.MYSQL in stores else None
    dynamodb = dynamodb_settings(env) if StoreKind.DYNAMODB in stores else None
    log_level = (read.text("GRAPHQL_API_LOG_LEVEL", "INFO") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ConfigError("GRAPHQL_API_LOG_LEVEL", f"unknown level {log_level!r}")
    settings = Settings(
        environment=environment,
        stores=stores,
        mysql=mysql,
        max_page_size=read.integer("GRAPHQL_API_MAX_PAGE_SIZE", 100, low=1, high=10_000),
        graphiql=read.flag("GRAPHQL_API_GRAPHIQL", environment is Environment.DEVELOPMENT),
        log_level=log_level,
        log_format=_log_format(read, environment),
        dynamodb=dynamodb,
        resilience=_resilience_settings(read),
        outbox_relay=read.flag("GRAPHQL_API_OUTBOX_RELAY", True),
        outbox_backlog_interval_s=read.seconds(
            "GRAPHQL_API_OUTBOX_BACKLOG_INTERVAL", 10.0, low=0.1, high=3600.0
        ),
        auth=_jwt_settings(read),
        limits=_query_limits(read),
        serving=_serving_settings(read),
        feed=_feed_settings(read),
        directories=directories(env),
        fast_path=read.flag("GRAPHQL_API_FAST_PATH", True),
        documents=_document_settings(read),
        tracing=_tracing(read),
    )
    _check_production(settings)
    return settings
