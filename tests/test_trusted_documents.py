"""Trusted documents and APQ: documents sent by hash, and a server that runs only those."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack.env import serve
from graphql_api.contract.manifest import document_hash, manifest_of, manifest_text
from graphql_api.contract.operations import documents_in_directory
from graphql_api.errors import ConfigError
from graphql_api.settings import load_settings
from graphql_api.web.execution import Execution
from tests.utils.jwt_tokens import auth_env, bearer, claims, hs256

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "contract" / "trusted-documents.json"
OPERATIONS = ROOT / "tests" / "operations"
HASHES = ROOT / "tests" / "graphql_js" / "document_hashes.mjs"
CUSTOMER_PAGE_VARIABLES = {"id": "C-00001"}


def _entries() -> dict[str, dict[str, Any]]:
    manifest = json.loads(MANIFEST.read_text())
    return {operation["name"]: operation for operation in manifest["operations"]}


def _apq(sha256: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256}}


def test_the_committed_manifest_is_the_operations_manifest() -> None:
    """`make trusted-documents` writes it; a changed operation needs a new one."""
    expected = manifest_text(manifest_of(documents_in_directory(OPERATIONS)))
    assert MANIFEST.read_text() == expected, "run `make trusted-documents`"
    assert len(_entries()) == len(list(OPERATIONS.glob("*.graphql")))


def test_javascript_clients_compute_the_same_ids() -> None:
    """graphql-js prints each operation to the manifest's body, so the hash an
    Apollo client (or any manifest tool on graphql-js) sends is the manifest's id."""
    texts = {path.stem: path.read_text() for path in OPERATIONS.glob("*.graphql")}
    printed = subprocess.run(
        ["node", str(HASHES)],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(printed.stdout) == {name: entry["id"] for name, entry in _entries().items()}


@pytest.fixture(scope="module")
def development() -> Iterator[httpx.Client]:
    env = {"GRAPHQL_API_TRUSTED_DOCUMENTS": str(MANIFEST)}
    with serve(env) as app, httpx.Client(base_url=app.base_url, timeout=30) as http:
        yield http


def _answer(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_document_id_runs_the_manifest_document(development: httpx.Client) -> None:
    page = _entries()["CustomerPage"]
    by_text = _answer(development, {"query": page["body"], "variables": CUSTOMER_PAGE_VARIABLES})
    assert by_text["data"]["customer"]["id"] == "C-00001"
    for document_id in (f"sha256:{page['id']}", page["id"]):
        by_id = {"documentId": document_id, "variables": CUSTOMER_PAGE_VARIABLES}
        assert _answer(development, by_id) == by_text
    got = development.get(
        "/graphql",
        params={
            "documentId": f"sha256:{page['id']}",
            "variables": json.dumps(CUSTOMER_PAGE_VARIABLES),
        },
    )
    assert got.json() == by_text
    apq = {"extensions": _apq(page["id"]), "variables": CUSTOMER_PAGE_VARIABLES}
    assert _answer(development, apq) == by_text


def test_apq_registers_a_document_in_development(development: httpx.Client) -> None:
    query = '{ customer(id: "C-00002") { id name } }'
    sha256 = document_hash(query)
    missing = _answer(development, {"extensions": _apq(sha256)})
    [error] = missing["errors"]
    # What Apollo's persisted query link reads to send the text next.
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    registered = _answer(development, {"query": query, "extensions": _apq(sha256)})
    assert registered["data"]["customer"]["id"] == "C-00002"
    assert _answer(development, {"extensions": _apq(sha256)}) == registered


@pytest.mark.parametrize(
    ("body", "code", "names"),
    [
        pytest.param(
            {"query": "{ __typename }", "extensions": _apq("0" * 64)},
            "PERSISTED_QUERY_HASH_MISMATCH",
            "sha256",
            id="hash-mismatch",
        ),
        pytest.param(
            {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
            "PERSISTED_QUERY_NOT_SUPPORTED",
            "version: 1",
            id="apq-version",
        ),
        pytest.param(
            {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ABC"}}},
            "PERSISTED_QUERY_NOT_SUPPORTED",
            "64 lowercase hex",
            id="apq-not-a-hash",
        ),
        pytest.param(
            {"documentId": "md5:abc"}, "BAD_REQUEST", "sha256:<64 lowercase hex", id="not-sha256"
        ),
        pytest.param(
            {"documentId": f"sha256:{'0' * 64}"},
            "PERSISTED_QUERY_NOT_FOUND",
            "No trusted document",
            id="unknown-id",
        ),
        pytest.param(
            {"documentId": f"sha256:{'0' * 64}", "query": "{ __typename }"},
            "BAD_REQUEST",
            "not both",
            id="id-and-query",
        ),
        pytest.param(
            {"documentId": 7}, "BAD_REQUEST", "`documentId` must be a string", id="id-type"
        ),
    ],
)
def test_a_bad_reference_is_a_400_naming_what_is_wrong(
    development: httpx.Client, body: dict[str, Any], code: str, names: str
) -> None:
    response = development.post("/graphql", json=body)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == code
    assert names in error["message"]


@pytest.fixture(scope="module")
def trusted_only() -> Iterator[httpx.Client]:
    env = {
        "GRAPHQL_API_ENV": "production",
        "GRAPHQL_API_STORES": "memory",
        "GRAPHQL_API_TRUSTED_DOCUMENTS": str(MANIFEST),
        "GRAPHQL_API_TRUSTED_DOCUMENTS_ONLY": "true",
        **auth_env(),
    }
    manager = bearer(hs256(claims(roles=("manager",))))
    with (
        serve(env) as app,
        httpx.Client(base_url=app.base_url, headers=manager, timeout=30) as http,
    ):
        yield http


def test_only_trusted_documents_run(trusted_only: httpx.Client) -> None:
    page = _entries()["CustomerPage"]
    by_id = _answer(
        trusted_only, {"documentId": f"sha256:{page['id']}", "variables": CUSTOMER_PAGE_VARIABLES}
    )
    assert by_id["data"]["customer"]["id"] == "C-00001"
    # The trusted text itself, sent in full, is the same document.
    by_text = {"query": page["body"], "variables": CUSTOMER_PAGE_VARIABLES}
    assert _answer(trusted_only, by_text) == by_id
    for refused in (
        {"query": '{ customer(id: "C-00001") { id } }'},
        {"query": "{ __typename }", "extensions": _apq(document_hash("{ __typename }"))},
        [{"documentId": f"sha256:{page['id']}"}, {"query": "{ __typename }"}],
    ):
        response = trusted_only.post("/graphql", json=refused)
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"


def test_production_keeps_no_registration() -> None:
    env = {
        "GRAPHQL_API_ENV": "production",
        "GRAPHQL_API_STORES": "memory",
        **auth_env(),
    }
    manager = bearer(hs256(claims(roles=("manager",))))
    query = "{ __typename }"
    apq = _apq(document_hash(query))
    with serve(env) as app, httpx.Client(base_url=app.base_url, headers=manager) as http:
        assert _answer(http, {"query": query, "extensions": apq})["data"] == {"__typename": "Query"}
        missing = _answer(http, {"extensions": apq})
        assert missing["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


def test_only_trusted_needs_a_manifest() -> None:
    with pytest.raises(ConfigError, match="GRAPHQL_API_TRUSTED_DOCUMENTS"):
        load_settings({"GRAPHQL_API_TRUSTED_DOCUMENTS_ONLY": "true"})


def test_a_manifest_whose_id_is_not_its_body_stops_the_start(tmp_path: Path) -> None:
    manifest = json.loads(MANIFEST.read_text())
    manifest["operations"][0]["body"] += " "
    tampered = tmp_path / "manifest.json"
    tampered.write_text(json.dumps(manifest))
    settings = load_settings({"GRAPHQL_API_TRUSTED_DOCUMENTS": str(tampered)})
    with pytest.raises(ConfigError, match="operation 0: its id is not the sha256 of its body"):
        Execution(settings)
