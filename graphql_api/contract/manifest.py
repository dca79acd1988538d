"""Trusted documents: a manifest of the operations front ends may run, by hash.

The file is Apollo's persisted query manifest (the format its
`generate-persisted-query-manifest` writes and its clients read): each
operation's `body` is the document as graphql-js prints it, and its `id` the
sha256 of that body in hex, which is also what Apollo's APQ link sends as
`sha256Hash`. So one manifest serves Apollo clients, clients that send a
`documentId` (`sha256:<id>`, the GraphQL trusted documents convention), and
the server (web/trusted_documents.py) alike.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode, print_ast

from graphql_api.contract.operations import ClientDocument
from graphql_api.errors import ContractSourceError

FORMAT = "apollo-persisted-query-manifest"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def document_hash(body: str) -> str:
    """The id of a document's text: sha256, lowercase hex."""
    return hashlib.sha256(body.encode()).hexdigest()


def is_document_hash(text: str) -> bool:
    return _SHA256_HEX.fullmatch(text) is not None


def manifest_of(documents: Sequence[ClientDocument]) -> dict[str, Any]:
    """The manifest of `documents`, one entry per operation file, in name order."""
    operations = []
    for client_document in documents:
        body = print_ast(client_document.document)
        definitions = [
            d
            for d in client_document.document.definitions
            if isinstance(d, OperationDefinitionNode)
        ]
        if len(definitions) != 1 or definitions[0].name is None:
            raise ContractSourceError(
                client_document.origin, "a trusted document holds exactly one named operation"
            )
        operations.append(
            {
                "id": document_hash(body),
                "name": definitions[0].name.value,
                "type": definitions[0].operation.value,
                "body": body,
            }
        )
    operations.sort(key=lambda operation: operation["name"])
    return {"format": FORMAT, "version": 1, "operations": operations}


def manifest_text(manifest: Mapping[str, Any]) -> str:
    return json.dumps(manifest, indent=2) + "\n"


def read_manifest(path: Path) -> dict[str, str]:
    """id -> body of every operation in the manifest at `path`; refuses one
    whose id is not its body's hash (a hand-edited body would run under the
    name of another)."""
    where = str(path)
    try:
        manifest = json.loads(path.read_text())
    except OSError as error:
        raise ContractSourceError(where, f"cannot be read ({error.strerror})") from None
    except ValueError:
        raise ContractSourceError(where, "is not JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ContractSourceError(where, f'is not a manifest: "format" must be "{FORMAT}"')
    if manifest.get("version") != 1:
        raise ContractSourceError(where, "has a version other than 1")
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise ContractSourceError(where, '"operations" must be a list')
    bodies: dict[str, str] = {}
    for position, operation in enumerate(operations):
        entry = f"operation {position}"
        if not isinstance(operation, dict):
            raise ContractSourceError(where, f"{entry} is not an object")
        body, id_ = operation.get("body"), operation.get("id")
        if not isinstance(body, str) or not isinstance(id_, str):
            raise ContractSourceError(where, f'{entry} needs a string "id" and "body"')
        if document_hash(body) != id_:
            raise ContractSourceError(where, f"{entry}: its id is not the sha256 of its body")
        bodies[id_] = body
    return bodies
