"""`graphql-api schema check | release | export` and `documents manifest`: the contract commands.

Paths are relative to the working directory, the repository's top, as `make` runs them.
Exit codes: 0 fine, 1 an unacknowledged breaking change (or a refused release), 2 a
base, changelog or operation that cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from graphql_api.contract.changelog import UNRELEASED_HEADING, read_changelog, with_release
from graphql_api.contract.check import CheckReport, check_contract
from graphql_api.contract.manifest import manifest_of, manifest_text
from graphql_api.contract.operations import documents_in_directory
from graphql_api.contract.render import render_json, render_text
from graphql_api.contract.sources import BaseSchema, load_base, parsed_schema
from graphql_api.errors import ContractSourceError, UnreadableChangeError

RELEASED = Path("contract/released.graphql")
CHANGELOG = Path("schema-changes.md")
OPERATIONS = Path("tests/operations")
EXIT_USAGE = 2


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schema = commands.add_parser("schema", help="the schema contract: check, release, export")
    actions = schema.add_subparsers(dest="schema_command", required=True)
    check = actions.add_parser("check", help="classify changes from a base; exit 1 if breaking")
    check.add_argument(
        "--against", metavar="FILE_OR_GIT_REF", help=f"the base schema (default {RELEASED})"
    )
    check.add_argument("--format", choices=("text", "json"), default="text")
    release = actions.add_parser("release", help=f"copy the schema over {RELEASED}")
    for parser in (check, release):
        parser.add_argument("--released", type=Path, default=RELEASED, help="released snapshot")
        parser.add_argument("--changelog", type=Path, default=CHANGELOG)
        parser.add_argument("--operations", type=Path, default=OPERATIONS, help="*.graphql")
    export = actions.add_parser("export", help="print the schema as SDL")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    documents = commands.add_parser("documents", help="trusted documents, sent by hash")
    documents_actions = documents.add_subparsers(dest="documents_command", required=True)
    manifest = documents_actions.add_parser(
        "manifest", help="the persisted query manifest (sha256 -> document) of the operations"
    )
    manifest.add_argument("--operations", type=Path, default=OPERATIONS, help="*.graphql")
    manifest.add_argument("--output", type=Path, help="write to this file instead of stdout")


def _current_sdl() -> str:
    from graphql_api.schema import schema_sdl

    return schema_sdl()


def _report(args: argparse.Namespace, base: BaseSchema) -> CheckReport:
    released = args.released.resolve()
    return check_contract(
        base=parsed_schema(base.label, base.sdl),
        base_label=base.label,
        current=parsed_schema("the code's schema", _current_sdl()),
        documents=documents_in_directory(args.operations),
        changelog=read_changelog(args.changelog),
        against_released=base.path is not None and base.path.resolve() == released,
    )


def _check(args: argparse.Namespace) -> int:
    base = load_base(args.against or str(args.released), cwd=Path.cwd())
    report = _report(args, base)
    if args.format == "json":
        sys.stdout.write(render_json(report))
    else:
        sys.stdout.write(render_text(report, changelog=str(args.changelog)))
    return report.exit_code


def _release(args: argparse.Namespace) -> int:
    report = _report(args, load_base(str(args.released), cwd=Path.cwd()))
    if not report.changes:
        print(f"{args.released} already is the contract: nothing to release")
        return 0
    gaps = report.changelog_gaps
    if report.blocking or (gaps is not None and not gaps.empty):
        sys.stdout.write(render_text(report, changelog=str(args.changelog)))
        print("Not released: acknowledge every breaking change and list every change first.")
        return 1
    args.released.write_text(_current_sdl())
    heading = f"## Released {datetime.now(UTC).date().isoformat()}"
    args.changelog.write_text(with_release(args.changelog.read_text(), heading=heading))
    print(f"Released {len(report.changes)} changes: wrote {args.released};")
    print(f"{args.changelog}: the {UNRELEASED_HEADING} entries are now under `{heading}`.")
    return 0


def export_schema(output: Path | None) -> None:
    """The code's schema as SDL, to `output` or stdout (`schema export`, `export-schema`)."""
    if output:
        output.write_text(_current_sdl())
    else:
        sys.stdout.write(_current_sdl())


def _export(args: argparse.Namespace) -> int:
    export_schema(args.output)
    return 0


def run_command(args: argparse.Namespace) -> None:
    commands = {"check": _check, "release": _release, "export": _export}
    try:
        code = commands[args.schema_command](args)
    except (ContractSourceError, UnreadableChangeError) as error:
        print(f"graphql-api schema {args.schema_command}: {error}", file=sys.stderr)
        code = EXIT_USAGE
    sys.exit(code)


def run_documents_command(args: argparse.Namespace) -> None:
    """`documents manifest`: exit 0, or 2 when an operation cannot be read."""
    try:
        text = manifest_text(manifest_of(documents_in_directory(args.operations)))
    except ContractSourceError as error:
        print(f"graphql-api documents manifest: {error}", file=sys.stderr)
        sys.exit(EXIT_USAGE)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
