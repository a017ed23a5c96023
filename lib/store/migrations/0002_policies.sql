-- Vouch endorsement store, schema version 2: appraisal policies.
--
-- Written, like 0001_init.sql, in the common subset of PostgreSQL and SQLite.
-- Two spellings are rewritten for SQLite when the migration is loaded
-- (src/sql.rs): BYTEA becomes BLOB, and "BIGSERIAL PRIMARY KEY" becomes
-- "INTEGER PRIMARY KEY AUTOINCREMENT" (AUTOINCREMENT so that a version is
-- never reused, even after the newest row is gone).

-- One row per stored policy. Policies are immutable once stored; only
-- `active` changes. `version` is the store-wide sequence that orders them.
CREATE TABLE policies (
    version        BIGSERIAL PRIMARY KEY,
    scheme         TEXT     NOT NULL,
    id             BYTEA    NOT NULL,
    name           TEXT     NOT NULL,
    rules          TEXT     NOT NULL,
    rules_digest   BYTEA    NOT NULL,
    active         BOOLEAN  NOT NULL DEFAULT FALSE,
    created_at_us  BIGINT   NOT NULL
);

-- Lookup of one policy by (scheme, id); ids are chosen by the caller.
CREATE UNIQUE INDEX policies_by_id ON policies (scheme, id);

-- Idempotency of add_policy: one policy per (scheme, name, SHA-256 of rules),
-- so a retried or concurrent identical create stores one row.
CREATE UNIQUE INDEX policies_by_content ON policies (scheme, name, rules_digest);

-- At most one active policy per scheme, enforced by the database; also
-- serves the lookup of a scheme's active policy.
CREATE UNIQUE INDEX policies_active ON policies (scheme) WHERE active;

-- A scheme's policies in version order, without a sort.
CREATE INDEX policies_by_version ON policies (scheme, version);
