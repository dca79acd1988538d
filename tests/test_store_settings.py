"""Which stores serve, in what order, and the chain's knobs; bad values name the variable."""

from __future__ import annotations

import pytest

from graphql_api.errors import ConfigError
from graphql_api.settings import StoreKind, load_settings
from tests.utils.jwt_tokens import auth_env

RDS = {"RDS_ENDPOINT": "db.internal", "RDS_USERNAME": "app"}
DYNAMO = {"DYNAMODB_TABLE": "salepoint", "AWS_REGION": "eu-west-1"}
# Production also needs authentication; with it, only the store rules decide.
PRODUCTION = {"GRAPHQL_API_ENV": "production", **auth_env()}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, (StoreKind.MEMORY,), id="nothing-memory"),
        pytest.param(RDS, (StoreKind.MYSQL,), id="rds-mysql"),
        pytest.param(DYNAMO, (StoreKind.DYNAMODB,), id="table-dynamodb"),
        pytest.param({**RDS, **DYNAMO}, (StoreKind.MYSQL, StoreKind.DYNAMODB), id="both"),
        pytest.param({**RDS, **DYNAMO, "STUDENT_MODE": "true"}, (StoreKind.MEMORY,), id="student"),
        pytest.param(
            {**RDS, **DYNAMO, "GRAPHQL_API_STORES": "dynamodb, mysql"},
            (StoreKind.DYNAMODB, StoreKind.MYSQL),
            id="configured-order",
        ),
        pytest.param(
            {**PRODUCTION, "GRAPHQL_API_STORES": "memory"}, (StoreKind.MEMORY,), id="prod-named"
        ),
    ],
)
def test_store_order_follows_the_environment(
    env: dict[str, str], expected: tuple[StoreKind, ...]
) -> None:
    assert load_settings(env).stores == expected


def test_dynamodb_settings_come_from_the_aws_variables() -> None:
    settings = load_settings(
        {**DYNAMO, "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID": "k"}
    )
    assert settings.dynamodb is not None
    assert (settings.dynamodb.table, settings.dynamodb.region) == ("salepoint", "eu-west-1")
    assert settings.dynamodb.endpoint_url == "http://127.0.0.1:4566"
    assert "'k'" not in repr(settings)


def test_reader_endpoint_is_kept_beside_the_writer() -> None:
    settings = load_settings({**RDS, "RDS_READER_ENDPOINT": "db-ro.internal"})
    assert settings.mysql is not None
    assert (settings.mysql.host, settings.mysql.reader_host) == ("db.internal", "db-ro.internal")


def test_resilience_defaults() -> None:
    resilience = load_settings({}).resilience
    assert resilience.attempts_per_store == 3
    assert resilience.breaker_failure_threshold == 5
    assert resilience.retry_base_delay_s <= resilience.retry_max_delay_s


def test_the_outbox_relay_runs_and_measures_its_backlog_every_ten_seconds() -> None:
    settings = load_settings({})
    assert (settings.outbox_relay, settings.outbox_backlog_interval_s) == (True, 10.0)


@pytest.mark.parametrize(
    ("env", "variable", "message_part"),
    [
        pytest.param(PRODUCTION, "GRAPHQL_API_STORES", "production refuses", id="prod-default"),
        pytest.param(
            {**PRODUCTION, "STUDENT_MODE": "true"},
            "GRAPHQL_API_STORES",
            "production",
            id="prod-student-mode",
        ),
        pytest.param(
            {**RDS, "GRAPHQL_API_STORES": "mysql,memory"},
            "GRAPHQL_API_STORES",
            "combined",
            id="memory-as-fallback",
        ),
        pytest.param(
            {"GRAPHQL_API_STORES": "dynamodb"}, "DYNAMODB_TABLE", "required", id="no-table"
        ),
        pytest.param(
            {"GRAPHQL_API_STORES": "dynamodb", "DYNAMODB_TABLE": "t"},
            "AWS_DEFAULT_REGION",
            "required",
            id="no-region",
        ),
        pytest.param(
            {**DYNAMO, "DYNAMODB_ENDPOINT_URL": "localhost:8000"},
            "DYNAMODB_ENDPOINT_URL",
            "http(s) URL",
            id="endpoint-no-scheme",
        ),
        pytest.param(
            {**DYNAMO, "GRAPHQL_API_DYNAMODB_TIMEOUT": "fast"},
            "GRAPHQL_API_DYNAMODB_TIMEOUT",
            "number of seconds",
            id="dynamodb-timeout",
        ),
        pytest.param(
            {"GRAPHQL_API_STORE_ATTEMPTS": "0"},
            "GRAPHQL_API_STORE_ATTEMPTS",
            "between",
            id="attempts-zero",
        ),
        pytest.param(
            {"GRAPHQL_API_BREAKER_FAILURES": "many"},
            "GRAPHQL_API_BREAKER_FAILURES",
            "integer",
            id="breaker-failures",
        ),
        pytest.param(
            {"GRAPHQL_API_BREAKER_COOLDOWN": "-1"},
            "GRAPHQL_API_BREAKER_COOLDOWN",
            "between",
            id="breaker-cooldown",
        ),
        pytest.param(
            {"GRAPHQL_API_RETRY_BASE_DELAY": "1", "GRAPHQL_API_RETRY_MAX_DELAY": "0.5"},
            "GRAPHQL_API_RETRY_MAX_DELAY",
            "must not be below",
            id="cap-below-base",
        ),
        pytest.param(
            {"GRAPHQL_API_REQUEST_TIMEOUT": "0"},
            "GRAPHQL_API_REQUEST_TIMEOUT",
            "between",
            id="request-timeout",
        ),
        pytest.param(
            {"GRAPHQL_API_OUTBOX_BACKLOG_INTERVAL": "0"},
            "GRAPHQL_API_OUTBOX_BACKLOG_INTERVAL",
            "between",
            id="backlog-interval",
        ),
    ],
)
def test_a_bad_store_setting_names_the_variable(
    env: dict[str, str], variable: str, message_part: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert raised.value.variable == variable
    assert message_part in raised.value.problem
