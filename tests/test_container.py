"""The Dockerfile, read as text (no docker engine here): what a reviewer checks by eye.

The image is not built by the tests; this checks that it is multi-stage (Python
on python:3.11-slim, GraphiQL built by npm from its lock file), installs the lock
file, runs as a non-root user, checks /healthz, and runs a `graphql-api serve`
command the real CLI accepts. What the image copies in (sql/, the GraphiQL
bundle) is laid out here as the Dockerfile lays it out, with the variables it
sets, and used for real: `graphql-api db init` against MariaDB, GraphiQL served.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from devstack.env import mysql_env, serve
from devstack.mariadb import MariaDBServer
from devstack.ports import free_port
from graphql_api import cli
from graphql_api.settings import load_settings
from tests.utils.jwt_tokens import auth_env


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


def _stage(stages: list[Stage], name: str) -> Stage:
    [stage] = [stage for stage in stages if stage.name == name]
    return stage


def _env(stage: Stage) -> dict[str, str]:
    return dict(pair.split("=", 1) for line in stage.all("ENV") for pair in shlex.split(line))


def _copied_to(stage: Stage, source: str) -> str:
    """Where in the image `COPY ... <source> <destination>` puts `source`."""
    [destination] = [c.split()[-1] for c in stage.all("COPY") if c.split()[-2] == source]
    if destination.startswith("/"):
        return destination
    [workdir] = stage.all("WORKDIR")
    return str(Path(workdir) / destination)


def test_python_stages_on_3_11_slim_and_graphiql_built_on_a_node_lts(stages: list[Stage]) -> None:
    assert len(stages) >= 3
    build, runtime, graphiql = _stage(stages, "build"), stages[-1], _stage(stages, "graphiql")
    assert {build.base, runtime.base} == {"python:3.11-slim"}
    # An LTS line still supported: 24 until April 2028.
    assert graphiql.base == "node:24-slim"
    copied_from_build = [c for c in runtime.all("COPY") if c.startswith(f"--from={build.name} ")]
    assert copied_from_build, "the runtime stage copies the built environment"


def test_the_locked_dependencies_are_installed(stages: list[Stage]) -> None:
    build = _stage(stages, "build")
    assert any("requirements.lock" in copy for copy in build.all("COPY"))
    installs = [run for run in build.all("RUN") if "pip install" in run]
    assert any("--require-hashes -r requirements.lock" in run for run in installs)
    # The package itself without resolving anything the lock file did not pin.
    assert any("--no-deps" in run for run in installs)


def test_graphiql_is_built_from_its_lock_file_and_served_from_where_the_image_puts_it(
    stages: list[Stage], repo_root: Path, tmp_path: Path
) -> None:
    graphiql, runtime = _stage(stages, "graphiql"), stages[-1]
    assert any("package-lock.json" in copy for copy in graphiql.all("COPY"))
    runs = graphiql.all("RUN")
    assert any(run.startswith("npm ci --ignore-scripts") for run in runs)
    assert "npm run build" in runs
    in_image = _copied_to(runtime, "/graphiql/dist")
    assert _env(runtime)["GRAPHQL_API_GRAPHIQL_DIR"] == in_image
    # The bundle `make test` built, where the image keeps it, found through the variable.
    bundle = tmp_path / Path(in_image).relative_to("/")
    shutil.copytree(repo_root / "graphiql" / "dist", bundle)
    env = {
        **_env(runtime),
        **auth_env(),
        "GRAPHQL_API_STORES": "memory",
        "GRAPHQL_API_GRAPHIQL": "true",
        "GRAPHQL_API_GRAPHIQL_DIR": str(bundle),
    }
    with serve(env) as app, httpx.Client(base_url=app.base_url) as http:
        page = http.get("/graphql", headers={"Accept": "text/html"})
        script = http.get("/graphql/assets/graphiql.js")
    assert page.status_code == 200
    assert "<html" in page.text
    assert script.status_code == 200
    assert script.content == (bundle / "graphiql.js").read_bytes()


def test_db_init_finds_the_sql_files_where_the_image_puts_them(
    stages: list[Stage], repo_root: Path, tmp_path: Path, mariadb: MariaDBServer
) -> None:
    runtime = stages[-1]
    in_image = _copied_to(runtime, "sql")
    assert _env(runtime)["GRAPHQL_API_SQL_DIR"] == in_image
    sql = tmp_path / Path(in_image).relative_to("/")
    shutil.copytree(repo_root / "sql", sql)
    connection = mariadb.connect()
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS image_init")
        cursor.execute("CREATE DATABASE image_init")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "graphql_api", "db", "init"],
            env={
                "PATH": os.environ["PATH"],
                **mysql_env(mariadb, RDS_DATABASE="image_init"),
                "GRAPHQL_API_SQL_DIR": str(sql),
            },
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "applied 010_schema.sql" in result.stdout
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM image_init.customers")
            assert cursor.fetchone() == (0,)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP DATABASE IF EXISTS image_init")
        connection.close()


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
    env = _env(runtime)
    assert env["GRAPHQL_API_ENV"] == "production"
    assert "GRAPHQL_API_WORKERS" in env
    settings = load_settings({**env, **auth_env(), "RDS_ENDPOINT": "db", "RDS_USERNAME": "app"})
    assert settings.is_production
    assert settings.serving.workers == int(env["GRAPHQL_API_WORKERS"])


def test_dockerignore_keeps_local_state_and_secrets_out(repo_root: Path) -> None:
    lines = (repo_root / ".dockerignore").read_text().splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "tests", "*.pem", ".env", "**/node_modules"} <= ignored
    # GraphiQL's sources go in (the image builds them); a local build does not.
    assert "graphiql" not in ignored
    assert "graphiql/dist" in ignored


def test_the_healthcheck_command_passes_on_a_live_server_and_fails_otherwise() -> None:
    with serve({}) as app:
        cli.main(["healthcheck", "--url", f"{app.base_url}/healthz"])
        assert httpx.get(f"{app.base_url}/healthz").status_code == 200
    with pytest.raises(SystemExit) as failed:
        cli.main(["healthcheck", "--url", f"http://127.0.0.1:{free_port()}/healthz"])
    assert "is not healthy" in str(failed.value.code)
