-- Tables for MySQL 8 and MariaDB 10.6+. Applied by `graphql-api db init`.
-- Each statement ends with a semicolon at the end of a line (the CLI splits there).
-- Times are DATETIME(6) in UTC: the API pins the session time zone to +00:00,
-- which avoids TIMESTAMP's 2038 limit and keeps microseconds for event order.
-- Ids compare byte-wise (utf8mb4_bin) so the API's id order is the same everywhere.

CREATE TABLE IF NOT EXISTS sales_reps (
    sales_rep_id  VARCHAR(20)  NOT NULL,
    first_name    VARCHAR(50)  NOT NULL,
    last_name     VARCHAR(50)  NOT NULL,
    email         VARCHAR(100) NOT NULL,
    phone         VARCHAR(20)  NULL,
    region        VARCHAR(50)  NULL,
    active        BOOLEAN      NOT NULL DEFAULT TRUE,
    created_at    DATETIME(6)  NOT NULL,
    updated_at    DATETIME(6)  NOT NULL,
    PRIMARY KEY (sales_rep_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS customers (
    customer_id            VARCHAR(20)  NOT NULL,
    name                   VARCHAR(200) NOT NULL,
    contact_person         VARCHAR(100) NULL,
    email                  VARCHAR(100) NULL,
    phone                  VARCHAR(20)  NULL,
    address                TEXT         NULL,
    city                   VARCHAR(100) NULL,
    state                  VARCHAR(50)  NULL,
    zip_code               VARCHAR(20)  NULL,
    country                VARCHAR(50)  NULL,
    status                 VARCHAR(16)  NOT NULL DEFAULT 'PROSPECT',
    assigned_sales_rep_id  VARCHAR(20)  NULL,
    version                INT UNSIGNED NOT NULL DEFAULT 1,
    created_at             DATETIME(6)  NOT NULL,
    updated_at             DATETIME(6)  NOT NULL,
    PRIMARY KEY (customer_id),
    CONSTRAINT customers_status_known
        CHECK (status IN ('PROSPECT', 'ACTIVE', 'INACTIVE', 'CHURNED')),
    CONSTRAINT customers_sales_rep_fk
        FOREIGN KEY (assigned_sales_rep_id) REFERENCES sales_reps (sales_rep_id),
    -- A rep's customers in id order, with and without a status filter.
    KEY customers_by_rep (assigned_sales_rep_id, customer_id),
    KEY customers_by_rep_status (assigned_sales_rep_id, status, customer_id),
    -- The customers list filtered by status or by place, in id order.
    KEY customers_by_status (status, customer_id),
    KEY customers_by_place (country, state, city, customer_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS customer_events (
    event_id           BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    customer_id        VARCHAR(20)  NOT NULL,
    kind               VARCHAR(16)  NOT NULL,
    occurred_at        DATETIME(6)  NOT NULL,
    actor              VARCHAR(100) NULL,
    from_sales_rep_id  VARCHAR(20)  NULL,
    to_sales_rep_id    VARCHAR(20)  NULL,
    from_status        VARCHAR(16)  NULL,
    to_status          VARCHAR(16)  NULL,
    note               VARCHAR(500) NULL,
    PRIMARY KEY (event_id),
    CONSTRAINT customer_events_kind_known
        CHECK (kind IN ('CREATED', 'UPDATED', 'ASSIGNED', 'UNASSIGNED', 'STATUS_CHANGED')),
    CONSTRAINT customer_events_customer_fk
        FOREIGN KEY (customer_id) REFERENCES customers (customer_id),
    CONSTRAINT customer_events_from_rep_fk
        FOREIGN KEY (from_sales_rep_id) REFERENCES sales_reps (sales_rep_id),
    CONSTRAINT customer_events_to_rep_fk
        FOREIGN KEY (to_sales_rep_id) REFERENCES sales_reps (sales_rep_id),
    -- A customer's history, newest first.
    KEY customer_events_by_customer (customer_id, event_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Changes waiting to be copied to the DynamoDB fallback, written in the same
-- transaction as the change itself (see graphql_api/outbox/). One row per change;
-- the relay copies the customer's current state (guarded by its version) and
-- the event, then deletes the row. Rows exist only while MySQL has a fallback.
CREATE TABLE IF NOT EXISTS outbox (
    outbox_id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    customer_id       VARCHAR(20)     NOT NULL,
    customer_version  INT UNSIGNED    NOT NULL,
    event_id          BIGINT UNSIGNED NOT NULL,
    created_at        DATETIME(6)     NOT NULL,
    PRIMARY KEY (outbox_id),
    KEY outbox_by_customer (customer_id, outbox_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Where an interrupted migration continues: one row per (migration, phase, segment).
CREATE TABLE IF NOT EXISTS migration_checkpoints (
    migration    VARCHAR(40)  NOT NULL,
    phase        VARCHAR(20)  NOT NULL,
    segment      INT UNSIGNED NOT NULL,
    segments     INT UNSIGNED NOT NULL,
    position     TEXT         NULL,
    done         BOOLEAN      NOT NULL DEFAULT FALSE,
    updated_at   DATETIME(6)  NOT NULL,
    PRIMARY KEY (migration, phase, segment)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
