"""Documents sent by hash: trusted documents and Apollo's automatic persisted queries.

A request names its document in one of three ways:

- `query`: the text, as ever;
- `documentId`: `sha256:<hex>` (the GraphQL trusted documents convention), a
  document of the manifest (GRAPHQL_API_TRUSTED_DOCUMENTS, written by
  `graphql-api documents manifest`);
- `extensions.persistedQuery.sha256Hash` (Apollo's APQ protocol): without a
  `query`, the document of that hash; with one, the text and its hash, which
  registers the text for later requests, in development only (in production a
  client cannot grow what the server keeps, only the manifest counts).

With GRAPHQL_API_TRUSTED_DOCUMENTS_ONLY the server runs the manifest's
documents and nothing else: a text whose hash is not in it is refused before
it is parsed. A known hash costs a dictionary lookup, and the fast path's
document cache (fastpath/documents.py) finds the body it parsed before, so a
repeat skips parsing and validation.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql_api.contract.manifest import document_hash, is_document_hash
from graphql_api.text_cache import TextCache

# What APQ registration keeps, in development only: texts no longer than a
# request body (64 KiB by default), so 8 MiB at worst; least recently used out.
_MAX_REGISTERED = 128


class DocumentRefused(Exception):
    """A request whose document cannot be run; `missing` when sending the text
    would do (Apollo's clients then send it)."""

    def __init__(self, code: str, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.missing = missing


class TrustedDocuments:
    def __init__(self, manifest: Mapping[str, str], *, only_trusted: bool, register: bool) -> None:
        self._manifest = dict(manifest)
        self._only_trusted = only_trusted
        self._register = register
        # hash -> text of APQ registrations (development).
        # Keyed by the 64-character hash: the entries bound it, not the keys' text.
        self._registered: TextCache[str] = TextCache(
            max_entries=_MAX_REGISTERED, max_text=64 * _MAX_REGISTERED
        )

    def document(self, query: str | None, extensions: object, document_id: object) -> str | None:
        """The document text to run, or the `query` as given when the request
        names none by hash (strawberry then answers as ever, a missing or
        malformed query included); raises DocumentRefused."""
        if document_id is not None:
            return self._by_document_id(query, document_id)
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is not None:
            return self._persisted(query, persisted)
        if self._only_trusted and query is not None and document_hash(query) not in self._manifest:
            raise DocumentRefused(
                "PERSISTED_QUERY_NOT_IN_LIST",
                "This server runs trusted documents only; send the documentId of one.",
            )
        return query

    def _by_document_id(self, query: str | None, document_id: object) -> str:
        if query is not None:
            raise DocumentRefused("BAD_REQUEST", "Send `documentId` or `query`, not both.")
        hash_ = document_id.removeprefix("sha256:") if isinstance(document_id, str) else ""
        if not is_document_hash(hash_):
            raise DocumentRefused(
                "BAD_REQUEST", "`documentId` must be sha256:<64 lowercase hex digits>."
            )
        body = self._manifest.get(hash_)
        if body is None:
            raise DocumentRefused(
                "PERSISTED_QUERY_NOT_FOUND", "No trusted document has this documentId."
            )
        return body

    def _persisted(self, query: str | None, persisted: object) -> str:
        hash_ = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if (
            not isinstance(persisted, dict)
            or persisted.get("version") != 1
            or not isinstance(hash_, str)
            or not is_document_hash(hash_)
        ):
            raise DocumentRefused(
                "PERSISTED_QUERY_NOT_SUPPORTED",
                "`extensions.persistedQuery` must be"
                " {version: 1, sha256Hash: <64 lowercase hex digits>}.",
            )
        if query is None:
            body = self._manifest.get(hash_)
            if body is None and hash_ in self._registered:
                body = self._registered.get(hash_)
            if body is None:
                # Apollo's clients know this message and send the text next.
                raise DocumentRefused(
                    "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound", missing=True
                )
            return body
        if document_hash(query) != hash_:
            raise DocumentRefused(
                "PERSISTED_QUERY_HASH_MISMATCH", "`sha256Hash` is not the sha256 of `query`."
            )
        if hash_ in self._manifest:
            return query
        if self._only_trusted:
            raise DocumentRefused(
                "PERSISTED_QUERY_NOT_IN_LIST",
                "This server runs trusted documents only; send the documentId of one.",
            )
        if self._register:
            self._registered.put(hash_, query)
        return query
