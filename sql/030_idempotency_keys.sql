-- Idempotency keys of POST /assignments (graphql_api/stores/idempotency.py): the
-- first answer to a key, replayed to a retry with the same body for 24 hours, so
-- every replica behind the load balancer answers a retry alike. A row is keyed by
-- a hash of the caller (the token's subject) and the key, so one caller can never
-- read another's answers; `status` is NULL while the first request still runs.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key_hash      BINARY(32)        NOT NULL,
    fingerprint   BINARY(32)        NOT NULL,
    created_at    DATETIME(6)       NOT NULL,
    status        SMALLINT UNSIGNED NULL,
    headers       TEXT              NULL,
    body          MEDIUMBLOB        NULL,
    PRIMARY KEY (key_hash),
    -- Expired rows are deleted a few at a time by the requests that claim keys.
    KEY idempotency_keys_by_age (created_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
