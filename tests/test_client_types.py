"""The client operations as TypeScript types (client-types/, graphql-codegen's client preset):
the committed types are what the schema and tests/operations/ generate, and they compile."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def client_types(repo_root: Path) -> Path:
    return repo_root / "client-types"


def _npm(client_types: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npm", "run", "--silent", script],
        cwd=client_types,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_committed_types_are_what_the_operations_generate(
    client_types: Path, tmp_path: Path
) -> None:
    generated = _npm(client_types, "generate", CLIENT_TYPES_OUT=f"{tmp_path}/")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    committed = client_types / "generated"
    fresh = {path.name: path.read_text() for path in tmp_path.iterdir()}
    assert fresh, "graphql-codegen wrote nothing"
    stale = [
        name
        for name, text in fresh.items()
        if not (committed / name).is_file() or (committed / name).read_text() != text
    ]
    extra = sorted({path.name for path in committed.iterdir()} - fresh.keys())
    assert (stale, extra) == ([], []), "out of date: run `make client-types` and commit"


def test_the_types_and_their_use_compile(client_types: Path) -> None:
    checked = _npm(client_types, "typecheck")
    assert checked.returncode == 0, checked.stdout + checked.stderr
