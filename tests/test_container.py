"""The Dockerfile, read as text (no docker engine here): what a reviewer checks by eye.

The image is not built by the tests; this checks that it is multi-stage on
python:3.11-slim, installs the lock file, runs as a non-root user, checks
/healthz, and runs a `graphql-api serve` command the real CLI accepts.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from graphql_api import cli
from graphql_api.settings import load_settings
from tests.conftest import serve
from tests.jwt_tokens import auth_env
from tests.servers.ports import free_port


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for name, arguments in self.instructions if name == keyword]


def _logical_lines(text: str) -> Iterator[str]:
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""


def parse_dockerfile(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
        else:
            stages[-1].instructions.append((keyword, arguments.strip()))
    return stages


def _exec_form(arguments: str) -> list[str]:
    words: list[str] = json.loads(arguments)
    return words


@pytest.fixture(scope="module")
def stages(repo_root: Path) -> list[Stage]:
    return parse_dockerfile((repo_root / "Dockerfile").read_text())


def test_two_stages_on_python_3_11_slim(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    assert {stage.base for stage in stages} == {"python:3.11-slim"}
    build, runtime = stages[0], stages[-1]
    assert build.name is not None
    copied_from_build = [c for c in runtime.all("COPY") if c.startswith(f"--from={build.name} ")]
    assert copied_from_build, "the runtime stage copies the built environment"


def test_the_locked_dependencies_are_installed(stages: list[Stage]) -> None:
    build = stages[0]
    assert any("requirements.lock" in copy for copy in build.all("COPY"))
    installs = [run for run in build.all("RUN") if "pip install" in run]
    assert any("-r requirements.lock" in run for run in installs)
    # The package itself without resolving anything the lock file did not pin.
    assert any("--no-deps" in run for run in installs)


def test_it_runs_as_a_non_root_user(stages: list[Stage]) -> None:
    runtime = stages[-1]
    users = runtime.all("USER")
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    last_user_at = max(i for i, (name, _) in enumerate(runtime.instructions) if name == "USER")
    later = [name for name, _ in runtime.instructions[last_user_at:]]
    assert "RUN" not in later


def test_the_healthcheck_asks_healthz(stages: list[Stage]) -> None:
    [healthcheck] = stages[-1].all("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    assert "--interval=" in options
    argv = _exec_form(command)
    assert argv[:2] == ["graphql-api", "healthcheck"]
    assert any(word.endswith("/healthz") for word in argv)


def test_the_command_serves_in_production_with_configurable_workers(stages: list[Stage]) -> None:
    runtime = stages[-1]
    [command] = runtime.all("CMD")
    argv = _exec_form(command)
    assert argv[:2] == ["graphql-api", "serve"]
    args = cli._parser().parse_args(argv[1:])
    assert (args.host, args.port, args.workers) == ("0.0.0.0", 8000, None)
    env = dict(pair.split("=", 1) for line in runtime.all("ENV") for pair in shlex.split(line))
    assert env["GRAPHQL_API_ENV"] == "production"
    assert "GRAPHQL_API_WORKERS" in env
    settings = load_settings({**env, **auth_env(), "RDS_ENDPOINT": "db", "RDS_USERNAME": "app"})
    assert settings.is_production
    assert settings.serving.workers == int(env["GRAPHQL_API_WORKERS"])


def test_dockerignore_keeps_local_state_and_secrets_out(repo_root: Path) -> None:
    ignored = set((repo_root / ".dockerignore").read_text().split())
    assert {".git", ".venv", "tests", "*.pem", ".env"} <= ignored


def test_the_healthcheck_command_passes_on_a_live_server_and_fails_otherwise() -> None:
    with serve({}) as app:
        cli.main(["healthcheck", "--url", f"{app.base_url}/healthz"])
        assert httpx.get(f"{app.base_url}/healthz").status_code == 200
    with pytest.raises(SystemExit) as failed:
        cli.main(["healthcheck", "--url", f"http://127.0.0.1:{free_port()}/healthz"])
    assert "is not healthy" in str(failed.value.code)
