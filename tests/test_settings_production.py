"""Settings for auth, limits and serving: defaults on, bad values stop start-up by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from devstack.ports import free_port
from graphql_api.errors import ConfigError
from graphql_api.settings import QueryLimits, ServingSettings, load_settings
from graphql_api.web.auth import Authenticator
from tests.utils.jwt_tokens import SECRET, auth_env

PRODUCTION = {"GRAPHQL_API_ENV": "production", "GRAPHQL_API_STORES": "memory"}


def test_every_limit_is_on_by_default() -> None:
    settings = load_settings({})
    assert settings.limits == QueryLimits(
        max_depth=8,
        max_aliases=15,
        max_tokens=2000,
        max_cost=100_000,
        max_batch_operations=10,
        max_body_bytes=65536,
        request_timeout_s=10.0,
    )
    assert settings.serving == ServingSettings(
        cors_origins=(), workers=1, shutdown_timeout_s=20, ready_timeout_s=1.0
    )
    assert settings.auth is None


def test_limits_and_serving_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "GRAPHQL_API_MAX_DEPTH": "5",
            "GRAPHQL_API_MAX_ALIASES": "3",
            "GRAPHQL_API_MAX_TOKENS": "500",
            "GRAPHQL_API_MAX_FIELD_MERGES": "700",
            "GRAPHQL_API_MAX_COST": "1000",
            "GRAPHQL_API_MAX_BATCH_OPERATIONS": "2",
            "GRAPHQL_API_MAX_BODY_BYTES": "2048",
            "GRAPHQL_API_REQUEST_TIMEOUT": "2.5",
            "GRAPHQL_API_CORS_ORIGINS": "https://a.example, http://localhost:5173",
            "GRAPHQL_API_WORKERS": "4",
            "GRAPHQL_API_SHUTDOWN_TIMEOUT": "25",
            "GRAPHQL_API_READY_TIMEOUT": "0.3",
        }
    )
    assert settings.limits == QueryLimits(5, 3, 500, 700, 1000, 2, 2048, 2.5)
    assert settings.serving == ServingSettings(
        ("https://a.example", "http://localhost:5173"), 4, 25, 0.3
    )


def test_jwt_settings_and_their_defaults() -> None:
    settings = load_settings(auth_env())
    assert settings.auth is not None
    assert (settings.auth.roles_claim, settings.auth.leeway_s) == ("roles", 30.0)
    assert settings.auth.audience == "graphql-api"
    assert SECRET not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param({"GRAPHQL_API_MAX_DEPTH": "0"}, "GRAPHQL_API_MAX_DEPTH", id="depth-zero"),
        pytest.param({"GRAPHQL_API_MAX_COST": "lots"}, "GRAPHQL_API_MAX_COST", id="cost-word"),
        pytest.param(
            {"GRAPHQL_API_MAX_BODY_BYTES": "10"}, "GRAPHQL_API_MAX_BODY_BYTES", id="body-tiny"
        ),
        pytest.param(
            {"GRAPHQL_API_REQUEST_TIMEOUT": "-1"},
            "GRAPHQL_API_REQUEST_TIMEOUT",
            id="negative-timeout",
        ),
        pytest.param({"GRAPHQL_API_WORKERS": "0"}, "GRAPHQL_API_WORKERS", id="no-workers"),
        pytest.param(
            {"GRAPHQL_API_CORS_ORIGINS": "https://a.example/"},
            "GRAPHQL_API_CORS_ORIGINS",
            id="origin-with-slash",
        ),
        pytest.param(
            {"GRAPHQL_API_CORS_ORIGINS": "a.example"},
            "GRAPHQL_API_CORS_ORIGINS",
            id="origin-without-scheme",
        ),
        pytest.param(
            {"GRAPHQL_API_JWT_SECRET": "short"}, "GRAPHQL_API_JWT_SECRET", id="short-secret"
        ),
        pytest.param(
            {"GRAPHQL_API_JWT_SECRET": SECRET, "GRAPHQL_API_JWT_PUBLIC_KEY_FILE": "k.pem"},
            "GRAPHQL_API_JWT_PUBLIC_KEY_FILE",
            id="secret-and-key",
        ),
        pytest.param(
            {**auth_env(), "GRAPHQL_API_JWT_LEEWAY": "3600"},
            "GRAPHQL_API_JWT_LEEWAY",
            id="leeway-too-large",
        ),
        pytest.param(PRODUCTION, "GRAPHQL_API_JWT_SECRET", id="production-without-auth"),
        pytest.param(
            {"GRAPHQL_API_ENV": "production", **auth_env()},
            "GRAPHQL_API_STORES",
            id="production-demo-data-by-default",
        ),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(env)
    assert raised.value.variable == variable


def test_production_with_auth_and_an_explicit_store_starts() -> None:
    settings = load_settings({**PRODUCTION, **auth_env()})
    assert settings.is_production
    assert settings.graphiql is False


def _key_settings(path: Path) -> Authenticator:
    settings = load_settings({"GRAPHQL_API_JWT_PUBLIC_KEY_FILE": str(path)})
    assert settings.auth is not None
    return Authenticator(settings.auth)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        pytest.param(None, "cannot read", id="missing-file"),
        pytest.param(b"not a key", "not a PEM public key", id="not-pem"),
        pytest.param(
            ec.generate_private_key(ec.SECP384R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "P-256",
            id="p384-key",
        ),
    ],
)
def test_an_unusable_key_file_stops_start_up(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "key.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        _key_settings(path)
    assert raised.value.variable == "GRAPHQL_API_JWT_PUBLIC_KEY_FILE"
    assert problem in raised.value.problem


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        pytest.param(
            {"GRAPHQL_API_ENV": "production", "GRAPHQL_API_STORES": "memory"},
            "GRAPHQL_API_JWT_SECRET",
            id="production-without-auth",
        ),
        pytest.param(
            {"GRAPHQL_API_JWT_PUBLIC_KEY_FILE": "/nonexistent/key.pem"},
            "GRAPHQL_API_JWT_PUBLIC_KEY_FILE",
            id="missing-key-file",
        ),
    ],
)
def test_serve_refuses_to_start_naming_the_variable(env: dict[str, str], variable: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphql_api", "serve", "--port", str(free_port())],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert variable in result.stderr
    assert "Traceback" not in result.stderr
