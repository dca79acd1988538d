"""Every kind of change graphql-core reports is read back into its schema coordinate.

The check reads graphql-core's sentences; a graphql-core that words one differently, or
adds a kind, fails here rather than dropping a change in CI.
"""

from __future__ import annotations

import pytest
from graphql import build_schema
from graphql.utilities.find_schema_changes import (
    BreakingChangeType,
    DangerousChangeType,
    SafeChangeType,
)

from graphql_api.contract.changes import Severity, read_change
from graphql_api.contract.diff import schema_changes
from graphql_api.errors import UnreadableChangeError

BEFORE = """
directive @tag(name: String, level: Int = 1) repeatable on FIELD | QUERY
directive @mark(note: String) on FIELD
interface Node { id: ID! }
type Item implements Node { id: ID! name(lang: String = "en"): String kind: Kind }
type Other { id: ID! }
type Spare { id: ID }
union Thing = Item | Other
enum Kind { A B }
input Filter { kind: Kind size: Int = 1 }
type Query { items(filter: Filter, first: Int): [Item] thing: Thing node(id: ID!): Node }
"""

# (kind, text in BEFORE, its replacement, the coordinate the change names)
CASES = [
    ("TYPE_REMOVED", "type Spare { id: ID }", "", "Spare"),
    ("TYPE_CHANGED_KIND", "enum Kind { A B }", "scalar Kind", "Kind"),
    ("TYPE_REMOVED_FROM_UNION", "Item | Other", "Item", "Thing|Other"),
    ("VALUE_REMOVED_FROM_ENUM", "{ A B }", "{ A }", "Kind.B"),
    ("REQUIRED_INPUT_FIELD_ADDED", "size: Int = 1", "size: Int = 1 must: Int!", "Filter.must"),
    ("IMPLEMENTED_INTERFACE_REMOVED", "Item implements Node", "Item", "Item&Node"),
    ("FIELD_REMOVED", 'name(lang: String = "en"): String', "", "Item.name"),
    ("FIELD_CHANGED_KIND", "kind: Kind }", "kind: Int }", "Item.kind"),
    ("REQUIRED_ARG_ADDED", "first: Int)", "first: Int, must: Int!)", "Query.items(must:)"),
    ("ARG_REMOVED", "filter: Filter, first: Int", "filter: Filter", "Query.items(first:)"),
    ("ARG_CHANGED_KIND", "first: Int)", "first: String)", "Query.items(first:)"),
    ("DIRECTIVE_REMOVED", "directive @mark(note: String) on FIELD", "", "@mark"),
    ("DIRECTIVE_ARG_REMOVED", "@mark(note: String)", "@mark", "@mark(note:)"),
    ("REQUIRED_DIRECTIVE_ARG_ADDED", "(note: String)", "(note: String, n: Int!)", "@mark(n:)"),
    ("DIRECTIVE_REPEATABLE_REMOVED", "repeatable ", "", "@tag"),
    ("DIRECTIVE_LOCATION_REMOVED", "FIELD | QUERY", "FIELD", "@tag|QUERY"),
    ("VALUE_ADDED_TO_ENUM", "{ A B }", "{ A B C }", "Kind.C"),
    ("TYPE_ADDED_TO_UNION", "Item | Other", "Item | Other | Query", "Thing|Query"),
    ("OPTIONAL_INPUT_FIELD_ADDED", "size: Int = 1", "size: Int = 1 more: Int", "Filter.more"),
    ("OPTIONAL_ARG_ADDED", "first: Int)", "first: Int, after: ID)", "Query.items(after:)"),
    ("IMPLEMENTED_INTERFACE_ADDED", "type Other {", "type Other implements Node {", "Other&Node"),
    ("ARG_DEFAULT_VALUE_CHANGE", '= "en"', '= "fr"', "Item.name(lang:)"),
    ("INPUT_FIELD_DEFAULT_VALUE_CHANGE", "size: Int = 1", "size: Int = 2", "Filter.size"),
    ("TYPE_ADDED", "enum Kind", "type Extra { id: ID }\nenum Kind", "Extra"),
    ("DIRECTIVE_ADDED", "interface Node", "directive @extra on FIELD\ninterface Node", "@extra"),
    (
        "FIELD_ADDED",
        "type Other { id: ID! }",
        "type Other { id: ID! label: String }",
        "Other.label",
    ),
    (
        "DIRECTIVE_REPEATABLE_ADDED",
        "@mark(note: String) on",
        "@mark(note: String) repeatable on",
        "@mark",
    ),
    ("DIRECTIVE_LOCATION_ADDED", "String) on FIELD", "String) on FIELD | QUERY", "@mark|QUERY"),
    ("OPTIONAL_DIRECTIVE_ARG_ADDED", "(note: String)", "(note: String, n: Int)", "@mark(n:)"),
    ("FIELD_CHANGED_KIND_SAFE", "kind: Kind }", "kind: Kind! }", "Item.kind"),
    ("ARG_CHANGED_KIND_SAFE", "node(id: ID!)", "node(id: ID)", "Query.node(id:)"),
    ("ARG_DEFAULT_VALUE_ADDED", "first: Int)", "first: Int = 10)", "Query.items(first:)"),
    ("INPUT_FIELD_DEFAULT_VALUE_ADDED", "{ kind: Kind", "{ kind: Kind = A", "Filter.kind"),
    ("DESCRIPTION_CHANGED", "enum Kind", '"Kinds."\nenum Kind', "Kind"),
    ("DESCRIPTION_CHANGED", "{ A B }", '{ A "Bee." B }', "Kind.B"),
    ("DESCRIPTION_CHANGED", "type Other { id", 'type Other { "Its id." id', "Other.id"),
    ("DESCRIPTION_CHANGED", "(filter: Filter", '("How." filter: Filter', "Query.items(filter:)"),
    ("DESCRIPTION_CHANGED", "{ kind: Kind", '{ "Which." kind: Kind', "Filter.kind"),
    ("DESCRIPTION_CHANGED", "directive @mark", '"Marks."\ndirective @mark', "@mark"),
    ("DEPRECATION_ADDED", "kind: Kind }", 'kind: Kind @deprecated(reason: "no") }', "Item.kind"),
    ("DEPRECATION_ADDED", "{ A B }", '{ A B @deprecated(reason: "no") }', "Kind.B"),
]


def _changed(old: str, new: str) -> str:
    assert BEFORE.count(old) == 1, old
    return BEFORE.replace(old, new)


@pytest.mark.parametrize(
    ("kind", "old", "new", "coordinate"),
    CASES,
    ids=[f"{case[0]}-{case[3]}" for case in CASES],
)
def test_change_names_its_coordinate(kind: str, old: str, new: str, coordinate: str) -> None:
    changes = schema_changes(build_schema(BEFORE), build_schema(_changed(old, new)))
    assert (kind, coordinate) in [(change.kind, change.coordinate) for change in changes], changes


def test_every_graphql_core_change_kind_has_a_case() -> None:
    kinds = {
        kind.name
        for kinds in (BreakingChangeType, DangerousChangeType, SafeChangeType)
        for kind in kinds
    }
    assert kinds <= {case[0] for case in CASES}


@pytest.mark.parametrize(
    ("kind", "severity"),
    [
        pytest.param("FIELD_REMOVED", Severity.BREAKING, id="breaking"),
        pytest.param("VALUE_ADDED_TO_ENUM", Severity.DANGEROUS, id="dangerous"),
        pytest.param("FIELD_ADDED", Severity.SAFE, id="safe"),
    ],
)
def test_severity_is_graphql_cores(kind: str, severity: Severity) -> None:
    case = next(case for case in CASES if case[0] == kind)
    changes = schema_changes(build_schema(BEFORE), build_schema(_changed(case[1], case[2])))
    assert [change.severity for change in changes if change.kind == kind] == [severity]


def test_a_sentence_the_check_cannot_read_fails_loudly() -> None:
    with pytest.raises(UnreadableChangeError, match="FIELD_REMOVED"):
        read_change("FIELD_REMOVED", Severity.BREAKING, "The field fax went away.")


def test_identical_schemas_have_no_changes() -> None:
    assert schema_changes(build_schema(BEFORE), build_schema(BEFORE)) == []


def test_a_difference_no_finder_knows_is_still_a_change() -> None:
    # A scalar's @specifiedBy URL is invisible to graphql-core's change finder.
    before = build_schema("scalar When type Query { at: When }")
    after = build_schema(
        'scalar When @specifiedBy(url: "https://example.com") type Query { at: When }'
    )
    assert [change.kind for change in schema_changes(before, after)] == ["UNCLASSIFIED"]
