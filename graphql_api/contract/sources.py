"""Where the base schema comes from: a file, or `schema.graphql` at a git ref."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_schema

from graphql_api.errors import ContractSourceError

# The committed contract at any ref, relative to the repository's top.
SCHEMA_FILE = "schema.graphql"


@dataclass(frozen=True)
class BaseSchema:
    label: str  # what the report calls it: a path, or `REF:schema.graphql`
    sdl: str
    path: Path | None  # the file it was read from; None for a git ref


def load_base(spec: str, *, cwd: Path) -> BaseSchema:
    """`spec` is a file when one exists at that path, a git ref otherwise."""
    path = cwd / spec
    if path.is_file():
        return BaseSchema(spec, path.read_text(), path)
    if spec.endswith(".graphql") or path.exists():
        raise ContractSourceError(spec, "no such schema file")
    return _from_git(spec, cwd=cwd)


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        # git from PATH with arguments built here; a ref that looks like an option is
        # refused before it gets here.
        return subprocess.run(  # noqa: S603
            ["git", *args],  # noqa: S607
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise ContractSourceError("git", "not installed; pass a schema file instead") from None


def _from_git(ref: str, *, cwd: Path) -> BaseSchema:
    if ref.startswith("-"):
        raise ContractSourceError(ref, "neither a schema file nor a git ref")
    top = _git("rev-parse", "--show-toplevel", cwd=cwd)
    if top.returncode != 0:
        raise ContractSourceError(ref, f"no such file, and {cwd} is not a git checkout")
    root = Path(top.stdout.strip())
    if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=root).returncode:
        raise ContractSourceError(ref, "neither a schema file nor a git ref of this checkout")
    shown = _git("show", f"{ref}:{SCHEMA_FILE}", cwd=root)
    if shown.returncode != 0:
        raise ContractSourceError(ref, f"the commit has no {SCHEMA_FILE}")
    return BaseSchema(f"{ref}:{SCHEMA_FILE}", shown.stdout, None)


def parsed_schema(label: str, sdl: str) -> GraphQLSchema:
    """The schema in `sdl`; a file that is not one is a usage error, named."""
    try:
        return build_schema(sdl)
    except (GraphQLError, TypeError) as error:
        raise ContractSourceError(label, f"not a valid schema: {error}") from None
