"""The lock files: every pin hashed, every dependency of pyproject.toml pinned, the two
locks agreeing, for Python 3.11 to 3.13 on every platform (`make lock` writes them)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)")


def _pins(lock: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, hashes) of each pin in a lock file."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for line in lock.read_text().splitlines():
        if found := _PIN.match(line):
            current = canonicalize_name(found.group(1))
            pins[current] = (found.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


@pytest.fixture(scope="module")
def project(repo_root: Path) -> dict[str, object]:
    return tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("lock", "extra"),
    [
        pytest.param("requirements.lock", None, id="service"),
        pytest.param("requirements-dev.lock", "dev", id="dev"),
    ],
)
def test_every_dependency_is_pinned_with_hashes_for_every_supported_python(
    repo_root: Path, project: dict[str, object], lock: str, extra: str | None
) -> None:
    path = repo_root / lock
    pins = _pins(path)
    assert pins
    assert [name for name, (_, hashes) in pins.items() if hashes == 0] == []
    header = path.read_text().splitlines()[1]
    assert "--universal" in header
    assert "--generate-hashes" in header
    dependencies = list(project["dependencies"])  # type: ignore[call-overload]
    if extra:
        dependencies += project["optional-dependencies"][extra]  # type: ignore[index]
    missing = [
        text for text in dependencies if canonicalize_name(Requirement(text).name) not in pins
    ]
    assert missing == [], "run `make lock` after changing pyproject.toml"


def test_the_two_locks_pin_the_same_versions(repo_root: Path) -> None:
    service, dev = (
        _pins(repo_root / "requirements.lock"),
        _pins(repo_root / "requirements-dev.lock"),
    )
    different = {name: (service[name][0], dev[name][0]) for name in service if name in dev}
    assert {name: pair for name, pair in different.items() if pair[0] != pair[1]} == {}
    assert service.keys() <= dev.keys()


def test_the_supported_pythons_are_what_the_project_declares(project: dict[str, object]) -> None:
    assert project["requires-python"] == ">=3.11,<3.14"
