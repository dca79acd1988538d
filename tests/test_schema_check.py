"""The contract check on real schemas: classifications, the operations a change reaches,
acknowledgements in schema-changes.md, and `graphql-api schema` as CI runs it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from graphql import build_schema

from graphql_api.contract.changelog import changelog_gaps, parse_changelog, with_release
from graphql_api.contract.check import CheckReport, DeprecatedInUse, check_contract
from graphql_api.contract.diff import schema_changes
from graphql_api.contract.operations import documents_in_directory
from graphql_api.errors import ContractSourceError
from graphql_api.schema import schema_sdl
from tests.utils.cli import graphql_api

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "tests" / "operations"
NO_ENTRIES = "# Contract changes\n\n## Unreleased\n\n## Released 2026-12-02\n"
STATUS_SENDERS = ("CreateCustomer", "CustomerSearch", "RepBook", "UpdateCustomerStatus")
MUTATIONS = (
    "AssignCustomer",
    "CreateCustomer",
    "UnassignCustomer",
    "UpdateCustomer",
    "UpdateCustomerStatus",
)
STATUS_READERS = tuple(
    sorted({*MUTATIONS, "CustomerFeed", "CustomerPage", "CustomerSearch", "RepBook"})
)


def committed_sdl() -> str:
    return (ROOT / "schema.graphql").read_text()


def edited(sdl: str, old: str, new: str) -> str:
    assert sdl.count(old) == 1, f"not exactly once in the schema: {old!r}"
    return sdl.replace(old, new)


def report(before: str, after: str, changelog: str = NO_ENTRIES) -> CheckReport:
    return check_contract(
        base=build_schema(before),
        base_label="before",
        current=build_schema(after),
        documents=documents_in_directory(OPERATIONS),
        changelog=parse_changelog(changelog, label="schema-changes.md"),
        against_released=True,
    )


# (old text in schema.graphql, new text, the one change expected, operations it reaches)
CHANGES = [
    pytest.param(
        "  name: String!\n  contactPerson: String\n",
        "  name: String!\n",
        "breaking: FIELD_REMOVED Customer.contactPerson",
        ("CustomerPage",),
        id="field-removed",
    ),
    pytest.param(
        "  firstName: String!\n",
        "",
        "breaking: FIELD_REMOVED SalesRep.firstName",
        (),
        id="field-removed-no-operation-uses",
    ),
    pytest.param(
        "  customer(id: ID!): Customer\n",
        "  customer(id: ID!, region: String!): Customer\n",
        "breaking: REQUIRED_ARG_ADDED Query.customer(region:)",
        ("CustomerPage",),
        id="required-argument-added",
    ),
    pytest.param(
        "salesReps(first: Int = 50,",
        "salesReps(first: Int!,",
        "breaking: ARG_CHANGED_KIND Query.salesReps(first:)",
        ("RepList",),
        id="argument-made-required",
    ),
    pytest.param(
        "  expectedVersion: Int = null\n  name: String\n",
        "  expectedVersion: Int = null\n  name: String!\n",
        "breaking: FIELD_CHANGED_KIND UpdateCustomerInput.name",
        ("UpdateCustomer",),
        id="input-nullable-made-non-null",
    ),
    pytest.param(
        "  phone: String\n  region: String\n",
        "  phone: String!\n  region: String\n",
        "safe: FIELD_CHANGED_KIND_SAFE SalesRep.phone",
        ("CustomerPage",),
        id="output-nullable-made-non-null",
    ),
    pytest.param(
        "  INACTIVE\n  CHURNED\n",
        "  INACTIVE\n",
        "breaking: VALUE_REMOVED_FROM_ENUM CustomerStatus.CHURNED",
        STATUS_SENDERS,
        id="enum-value-removed",
    ),
    pytest.param(
        "  INACTIVE\n  CHURNED\n",
        "  INACTIVE\n  CHURNED\n  LOST\n",
        "dangerous: VALUE_ADDED_TO_ENUM CustomerStatus.LOST",
        STATUS_READERS,
        id="enum-value-added",
    ),
    pytest.param(
        " | AlreadyExistsError\n",
        "\n",
        "breaking: TYPE_REMOVED_FROM_UNION CustomerResult|AlreadyExistsError",
        MUTATIONS,
        id="union-member-removed",
    ),
    pytest.param(
        "type NotFoundError implements UserError {",
        "type Territory {\n  name: String!\n}\n\ntype NotFoundError implements UserError {",
        "safe: TYPE_ADDED Territory",
        (),
        id="type-added",
    ),
    pytest.param(
        "type Customer {\n  id: ID!\n",
        "type Customer {\n  id: ID!\n  fax: String\n",
        "safe: FIELD_ADDED Customer.fax",
        (),
        id="field-added",
    ),
    pytest.param(
        "  country: String\n  status: CustomerStatus!\n",
        '  country: String @deprecated(reason: "part of address")\n  status: CustomerStatus!\n',
        "safe: DEPRECATION_ADDED Customer.country",
        ("CustomerPage",),
        id="field-deprecated",
    ),
    pytest.param(
        '"""Where a customer stands."""',
        '"""Where a customer stands today."""',
        "safe: DESCRIPTION_CHANGED CustomerStatus",
        STATUS_READERS,
        id="description-changed",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "operations"), CHANGES)
def test_change_is_classified_with_the_operations_it_reaches(
    old: str, new: str, key: str, operations: tuple[str, ...]
) -> None:
    checked = report(committed_sdl(), edited(committed_sdl(), old, new)).changes
    assert [(c.change.key, c.operations) for c in checked] == [(key, operations)]


def test_operation_writing_literals_is_reached_through_them(tmp_path: Path) -> None:
    (tmp_path / "Active.graphql").write_text(
        "query Active { customers(filter: {status: ACTIVE}) { totalCount } }\n"
    )
    (tmp_path / "Reps.graphql").write_text("query Reps { salesReps { totalCount } }\n")
    old, new = "input CustomerFilter {\n", "input CustomerFilter {\n  region: String!\n"
    result = check_contract(
        base=build_schema(committed_sdl()),
        base_label="before",
        current=build_schema(edited(committed_sdl(), old, new)),
        documents=documents_in_directory(tmp_path),
        changelog=parse_changelog(NO_ENTRIES, label="schema-changes.md"),
        against_released=False,
    )
    assert [(c.change.key, c.operations) for c in result.changes] == [
        ("breaking: REQUIRED_INPUT_FIELD_ADDED CustomerFilter.region", ("Active",))
    ]


def test_deprecated_field_still_read_is_reported_with_its_readers() -> None:
    old, new = (
        "  country: String\n  status",
        '  country: String @deprecated(reason: "gone")\n  status',
    )
    result = report(committed_sdl(), edited(committed_sdl(), old, new))
    assert result.deprecated_in_use == (
        DeprecatedInUse("Customer.country", "gone", ("CustomerPage",)),
    )


def test_deprecated_enum_value_no_operation_spells_out_is_not_reported() -> None:
    # RepBook's $status could carry CHURNED, but nothing shows a client sends it.
    old, new = "  CHURNED\n", '  CHURNED @deprecated(reason: "use INACTIVE")\n'
    assert report(committed_sdl(), edited(committed_sdl(), old, new)).deprecated_in_use == ()


REMOVE_CONTACT = ("  name: String!\n  contactPerson: String\n", "  name: String!\n")
CONTACT_ENTRY = "- breaking: FIELD_REMOVED Customer.contactPerson"


@pytest.mark.parametrize(
    ("entry", "exit_code"),
    [
        pytest.param("", 1, id="no-entry"),
        pytest.param(f"{CONTACT_ENTRY} — the page reads contactName now", 0, id="with-reason"),
        pytest.param(f"{CONTACT_ENTRY} -- the page reads contactName now", 0, id="ascii-dashes"),
        pytest.param(CONTACT_ENTRY, 1, id="without-reason-refused"),
        pytest.param(f"{CONTACT_ENTRY} — ", 1, id="empty-reason-refused"),
        pytest.param("- safe: FIELD_REMOVED Customer.contactPerson — x", 1, id="wrong-severity"),
    ],
)
def test_breaking_change_passes_only_when_acknowledged_with_a_reason(
    entry: str, exit_code: int
) -> None:
    changelog = NO_ENTRIES.replace("## Unreleased\n", f"## Unreleased\n\n{entry}\n")
    result = report(committed_sdl(), edited(committed_sdl(), *REMOVE_CONTACT), changelog)
    assert result.exit_code == exit_code


def test_changelog_gaps_name_missing_and_stale_entries() -> None:
    changes = schema_changes(
        build_schema(committed_sdl()), build_schema(edited(committed_sdl(), *REMOVE_CONTACT))
    )
    stale = "- safe: FIELD_ADDED Customer.fax — added"
    changelog = parse_changelog(
        NO_ENTRIES.replace("## Unreleased\n", f"## Unreleased\n{stale}\n"), label="c"
    )
    gaps = changelog_gaps(changes, changelog)
    assert [change.key for change in gaps.missing] == [CONTACT_ENTRY[2:]]
    assert [entry.key for entry in gaps.stale] == ["safe: FIELD_ADDED Customer.fax"]


def test_released_entries_do_not_cover_unreleased_changes() -> None:
    changes = schema_changes(
        build_schema(committed_sdl()), build_schema(edited(committed_sdl(), *REMOVE_CONTACT))
    )
    changelog = parse_changelog(f"{NO_ENTRIES}\n{CONTACT_ENTRY} — old\n", label="c")
    assert [change.key for change in changelog_gaps(changes, changelog).missing] == [
        CONTACT_ENTRY[2:]
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            "# c\n\n- breaking: FIELD_REMOVED\n\n## Unreleased\n", "line 3", id="no-coordinate"
        ),
        pytest.param(
            "# c\n\n- safe: field added Customer.fax\n## Unreleased\n", "line 3", id="bad-kind"
        ),
        pytest.param("# c\n\n## Pending\n", "## Unreleased", id="no-unreleased-heading"),
    ],
)
def test_malformed_changelog_is_refused(text: str, problem: str) -> None:
    with pytest.raises(ContractSourceError, match=problem):
        parse_changelog(text, label="schema-changes.md")


def test_release_moves_the_unreleased_entries_under_a_released_heading() -> None:
    text = f"# c\n\n## Unreleased\n\n{CONTACT_ENTRY} — why\n\n## Released 2026-01-01\n"
    released = with_release(text, heading="## Released 2026-12-24")
    changelog = parse_changelog(released, label="c")
    assert changelog.unreleased() == []
    assert released.index("## Unreleased") < released.index("## Released 2026-12-24")
    assert released.index("## Released 2026-12-24") < released.index(CONTACT_ENTRY)


def test_code_schema_changes_since_release_are_all_in_the_changelog() -> None:
    """The changelog rule: a change to the contract needs its line in schema-changes.md."""
    released = build_schema((ROOT / "contract" / "released.graphql").read_text())
    changes = schema_changes(released, build_schema(schema_sdl()))
    changelog = parse_changelog((ROOT / "schema-changes.md").read_text(), label="schema-changes.md")
    gaps = changelog_gaps(changes, changelog)
    assert gaps.missing == (), "add to schema-changes.md: " + ", ".join(c.key for c in gaps.missing)
    assert gaps.stale == (), [entry.key for entry in gaps.stale]


# The real command, as `make test` and CI run it.


def test_schema_check_passes_against_the_released_contract() -> None:
    result = graphql_api("schema", "check", "--format", "json", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    checked = json.loads(result.stdout)
    assert checked["base"] == "contract/released.graphql"
    assert checked["operation_count"] >= 9
    assert checked["changelog"] == {"missing": [], "stale": []}
    assert [change for change in checked["changes"] if change["blocking"]] == []


FAX_BASE = ("type Customer {\n  id: ID!\n", "type Customer {\n  id: ID!\n  fax: String\n")
FAX_ENTRY = "- breaking: FIELD_REMOVED Customer.fax"


@pytest.mark.parametrize(
    ("base_edit", "entry", "exit_code", "expected"),
    [
        pytest.param(
            FAX_BASE,
            "",
            1,
            ["BREAKING   FIELD_REMOVED Customer.fax", "used by: FaxSheet", "NOT ACKNOWLEDGED"],
            id="breaking-used",
        ),
        pytest.param(
            None,
            "",
            0,
            ["No changes."],
            id="nothing-changed",
        ),
        pytest.param(
            ("  firstName: String!\n", ""),
            "",
            0,
            ["SAFE       FIELD_ADDED SalesRep.firstName", "used by: no known operation"],
            id="safe",
        ),
        pytest.param(
            FAX_BASE,
            f"{FAX_ENTRY} — the fax page was retired in 2026-11",
            0,
            ["acknowledged (", "the fax page was retired in 2026-11", "every breaking change"],
            id="acknowledged",
        ),
        pytest.param(
            FAX_BASE,
            FAX_ENTRY,
            1,
            ["is refused: the entry gives no reason"],
            id="acknowledgement-without-reason",
        ),
    ],
)
def test_schema_check_exit_code(
    tmp_path: Path,
    base_edit: tuple[str, str] | None,
    entry: str,
    exit_code: int,
    expected: list[str],
) -> None:
    sdl = schema_sdl()
    base = tmp_path / "base.graphql"
    base.write_text(sdl if base_edit is None else edited(sdl, *base_edit))
    operations = tmp_path / "operations"
    operations.mkdir()
    (operations / "FaxSheet.graphql").write_text("query FaxSheet { customer(id: 1) { fax } }\n")
    changelog = tmp_path / "schema-changes.md"
    changelog.write_text(NO_ENTRIES.replace("## Unreleased\n", f"## Unreleased\n{entry}\n"))
    result = graphql_api(
        "schema",
        "check",
        "--against",
        str(base),
        "--operations",
        str(operations),
        "--changelog",
        str(changelog),
        cwd=ROOT,
    )
    assert result.returncode == exit_code, result.stdout + result.stderr
    for text in expected:
        assert text in result.stdout, result.stdout


def test_schema_check_json_names_the_change_and_its_operations(tmp_path: Path) -> None:
    base = tmp_path / "base.graphql"
    base.write_text(edited(schema_sdl(), "  INACTIVE\n", "  INACTIVE\n  LEAD\n"))
    result = graphql_api("schema", "check", "--against", str(base), "--format", "json", cwd=ROOT)
    assert result.returncode == 1, result.stderr
    (change,) = json.loads(result.stdout)["changes"]
    assert change["severity"] == "breaking"
    assert (change["kind"], change["coordinate"]) == (
        "VALUE_REMOVED_FROM_ENUM",
        "CustomerStatus.LEAD",
    )
    assert change["operations"] == list(STATUS_SENDERS)
    assert change["blocking"] is True


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=Contract Test", "-c", "user.email=contract@example.com"]
    subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A repository whose HEAD's schema.graphql has a field the code no longer has."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet")
    (repo / "schema.graphql").write_text(edited(schema_sdl(), *FAX_BASE))
    _git(repo, "add", "schema.graphql")
    _git(repo, "commit", "--quiet", "-m", "the contract with fax")
    return repo


def test_schema_check_against_a_git_ref_reads_its_schema(git_repo: Path) -> None:
    result = graphql_api(
        "schema",
        "check",
        "--against",
        "HEAD",
        "--operations",
        str(OPERATIONS),
        "--changelog",
        str(ROOT / "schema-changes.md"),
        cwd=git_repo,
    )
    assert result.returncode == 1, result.stderr
    assert "against HEAD:schema.graphql" in result.stdout
    assert "BREAKING   FIELD_REMOVED Customer.fax" in result.stdout


@pytest.mark.parametrize(
    ("against", "where", "message"),
    [
        pytest.param(
            "no-such-ref", "repo", "neither a schema file nor a git ref", id="unknown-ref"
        ),
        pytest.param("main", "plain", "is not a git checkout", id="not-a-checkout"),
        pytest.param("missing.graphql", "repo", "no such schema file", id="missing-file"),
        pytest.param("bad.graphql", "plain", "not a valid schema", id="not-a-schema"),
        pytest.param("--help", "repo", "neither a schema file nor a git ref", id="option-as-ref"),
    ],
)
def test_schema_check_usage_error_exits_2_with_a_message(
    git_repo: Path, tmp_path: Path, against: str, where: str, message: str
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "bad.graphql").write_text("type Query { broken(: Int }\n")
    result = graphql_api(
        "schema", "check", f"--against={against}", cwd=git_repo if where == "repo" else plain
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def release_files(tmp_path: Path) -> tuple[Path, Path]:
    released = tmp_path / "released.graphql"
    released.write_text(edited(schema_sdl(), *FAX_BASE))
    changelog = tmp_path / "schema-changes.md"
    changelog.write_text(NO_ENTRIES)
    return released, changelog


def _release(released: Path, changelog: Path) -> subprocess.CompletedProcess[str]:
    paths = ["--released", str(released), "--changelog", str(changelog)]
    return graphql_api("schema", "release", *paths, cwd=ROOT)


def test_release_is_refused_while_a_change_is_not_in_the_changelog(
    release_files: tuple[Path, Path],
) -> None:
    released, changelog = release_files
    before = released.read_text()
    result = _release(released, changelog)
    assert result.returncode == 1, result.stderr
    assert "Not released" in result.stdout
    assert released.read_text() == before


def test_release_copies_the_schema_and_dates_the_entries(release_files: tuple[Path, Path]) -> None:
    released, changelog = release_files
    text = NO_ENTRIES.replace("## Unreleased\n", f"## Unreleased\n{FAX_ENTRY} — retired\n")
    changelog.write_text(text)
    result = _release(released, changelog)
    assert result.returncode == 0, result.stdout + result.stderr
    assert released.read_text() == schema_sdl()
    assert parse_changelog(changelog.read_text(), label="c").unreleased() == []
    dated = re.compile(rf"## Unreleased\n\n## Released \d{{4}}-\d\d-\d\d\n{FAX_ENTRY} — retired\n")
    assert dated.search(changelog.read_text()), changelog.read_text()
    again = _release(released, changelog)
    assert again.returncode == 0
    assert "nothing to release" in again.stdout


def test_schema_export_prints_the_contract() -> None:
    result = graphql_api("schema", "export", cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == committed_sdl()
