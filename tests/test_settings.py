"""Settings come from a mapping; a bad value stops start-up naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphql_api.errors import ConfigError
from graphql_api.settings import Environment, LogFormat, StoreKind, load_settings

RDS = {"RDS_ENDPOINT": "db.internal", "RDS_USERNAME": "app", "RDS_PASSWORD": "s3cret"}
PRODUCTION = {
    "GRAPHQL_API_ENV": "production",
    "GRAPHQL_API_STORES": "memory",
    "GRAPHQL_API_JWT_SECRET": "x" * 32,
}


def test_nothing_configured_serves_the_in_memory_store() -> None:
    settings = load_settings({})
    assert settings.stores == (StoreKind.MEMORY,)
    assert settings.mysql is None
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.graphiql is True
    assert settings.max_page_size == 100


def test_the_old_deployment_variables_select_mysql() -> None:
    settings = load_settings({**RDS, "RDS_PORT": "3307", "RDS_DATABASE": "crm"})
    assert settings.stores == (StoreKind.MYSQL,)
    assert settings.mysql is not None
    assert (settings.mysql.host, settings.mysql.port, settings.mysql.database) == (
        "db.internal",
        3307,
        "crm",
    )
    assert settings.mysql.pool_size == 10
    assert settings.mysql.database == "crm"


def test_database_defaults_to_the_old_name() -> None:
    settings = load_settings(RDS)
    assert settings.mysql is not None
    assert settings.mysql.database == "salepoint_db"
    assert settings.mysql.port == 3306


def test_student_mode_serves_memory_even_with_rds_set() -> None:
    assert load_settings({**RDS, "STUDENT_MODE": "true"}).stores == (StoreKind.MEMORY,)


def test_directories_default_to_the_checkout_and_follow_their_variables() -> None:
    checkout = Path(__file__).resolve().parents[1]
    default = load_settings({})
    assert default.directories.sql == checkout / "sql"
    assert default.directories.graphiql == checkout / "graphiql" / "dist"
    assert default.serving.metrics_dir is None
    configured = load_settings(
        {
            "GRAPHQL_API_SQL_DIR": "/app/sql",
            "GRAPHQL_API_GRAPHIQL_DIR": "/app/graphiql",
            "PROMETHEUS_MULTIPROC_DIR": "/tmp/metrics",
        }
    )
    assert configured.directories.sql == Path("/app/sql")
    assert configured.directories.graphiql == Path("/app/graphiql")
    assert configured.serving.metrics_dir == Path("/tmp/metrics")


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({}, LogFormat.TEXT, id="development-text"),
        pytest.param({"GRAPHQL_API_LOG_FORMAT": "JSON"}, LogFormat.JSON, id="development-json"),
        pytest.param(PRODUCTION, LogFormat.JSON, id="production-json"),
        pytest.param({**PRODUCTION, "GRAPHQL_API_LOG_FORMAT": "text"}, LogFormat.TEXT, id="text"),
    ],
)
def test_log_format_follows_the_environment_unless_chosen(
    env: dict[str, str], expected: LogFormat
) -> None:
    assert load_settings(env).log_format is expected


def test_password_never_appears_in_repr() -> None:
    assert "s3cret" not in repr(load_settings(RDS))


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({**RDS, "RDS_PORT": "eighty"}, "RDS_PORT", id="port-not-a-number"),
        pytest.param({**RDS, "RDS_PORT": "70000"}, "RDS_PORT", id="port-out-of-range"),
        pytest.param({"RDS_ENDPOINT": "db"}, "RDS_USERNAME", id="username-missing"),
        pytest.param({"STUDENT_MODE": "maybe"}, "STUDENT_MODE", id="student-mode-not-bool"),
        pytest.param({"GRAPHQL_API_ENV": "staging"}, "GRAPHQL_API_ENV", id="unknown-env"),
        pytest.param({"GRAPHQL_API_STORES": "oracle"}, "GRAPHQL_API_STORES", id="unknown-store"),
        pytest.param({"GRAPHQL_API_STORES": ","}, "GRAPHQL_API_STORES", id="no-store"),
        pytest.param(
            {**RDS, "GRAPHQL_API_STORES": "mysql,mysql"}, "GRAPHQL_API_STORES", id="twice"
        ),
        pytest.param(
            {**RDS, "GRAPHQL_API_MYSQL_POOL_SIZE": "0"}, "GRAPHQL_API_MYSQL_POOL_SIZE", id="pool-0"
        ),
        pytest.param(
            {**RDS, "GRAPHQL_API_MYSQL_QUERY_TIMEOUT": "soon"},
            "GRAPHQL_API_MYSQL_QUERY_TIMEOUT",
            id="timeout-not-a-number",
        ),
        pytest.param(
            {"GRAPHQL_API_MAX_PAGE_SIZE": "-5"}, "GRAPHQL_API_MAX_PAGE_SIZE", id="page-size"
        ),
        pytest.param({"GRAPHQL_API_LOG_LEVEL": "LOUD"}, "GRAPHQL_API_LOG_LEVEL", id="log-level"),
        pytest.param({"GRAPHQL_API_LOG_FORMAT": "xml"}, "GRAPHQL_API_LOG_FORMAT", id="log-format"),
        pytest.param(
            {"GRAPHQL_API_COMPRESSION_MIN_BYTES": "-1"},
            "GRAPHQL_API_COMPRESSION_MIN_BYTES",
            id="compression-threshold",
        ),
    ],
)
def test_malformed_value_names_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert raised.value.variable == variable
    assert str(raised.value).startswith(variable)
