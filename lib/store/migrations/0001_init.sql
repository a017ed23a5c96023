-- Vouch endorsement store, schema version 1.
--
-- One DDL text serves both backends: it is written in the common subset of
-- PostgreSQL and SQLite, and the only dialect difference, the byte-string
-- type, is spelled BYTEA here and rewritten to BLOB for SQLite when the
-- migration is loaded (src/sql.rs). Every lookup the store performs is served
-- by one of the primary keys or by the one secondary index below.

-- One row per accepted CoRIM. The SHA-256 of the submitted bytes is the
-- idempotency key; the raw bytes are kept for audit.
CREATE TABLE corims (
    digest      BYTEA  NOT NULL PRIMARY KEY,
    scheme      TEXT   NOT NULL,
    media_type  TEXT   NOT NULL,
    profile     TEXT   NOT NULL,
    corim_id    TEXT   NOT NULL,
    not_after   BIGINT,
    added_at    BIGINT NOT NULL,
    body        BYTEA  NOT NULL
);

-- The current trust anchor per (scheme, ta_id): the latest provisioned CoRIM
-- wins, so a replacement rewrites the row (and its provenance) in place.
CREATE TABLE trust_anchors (
    scheme        TEXT   NOT NULL,
    ta_id         BYTEA  NOT NULL,
    rv_id         BYTEA  NOT NULL,
    key_der       BYTEA  NOT NULL,
    not_after     BIGINT,
    corim_digest  BYTEA  NOT NULL REFERENCES corims (digest),
    PRIMARY KEY (scheme, ta_id)
);

-- "Which trust anchors did CoRIM X provision?" (change feed).
CREATE INDEX trust_anchors_by_corim ON trust_anchors (corim_digest);

-- Reference values, stored once per (scheme, rv_id, body). The body is
-- identified by its SHA-256 so the key stays small whatever the body size
-- (PostgreSQL B-tree entries are limited to about 2.7 kB). The primary key
-- also serves the lookup by (scheme, rv_id), in body_digest order.
CREATE TABLE reference_values (
    scheme       TEXT   NOT NULL,
    rv_id        BYTEA  NOT NULL,
    body_digest  BYTEA  NOT NULL,
    body         BYTEA  NOT NULL,
    not_after    BIGINT,
    PRIMARY KEY (scheme, rv_id, body_digest)
);

-- Which CoRIMs asserted which reference values. A reference value shared by
-- several CoRIMs has one row in reference_values and one link per CoRIM. The
-- primary key leads with corim_digest, so "which rv_ids did CoRIM X touch" is
-- an index range scan that needs no join.
CREATE TABLE corim_reference_values (
    corim_digest  BYTEA  NOT NULL REFERENCES corims (digest),
    scheme        TEXT   NOT NULL,
    rv_id         BYTEA  NOT NULL,
    body_digest   BYTEA  NOT NULL,
    PRIMARY KEY (corim_digest, scheme, rv_id, body_digest),
    FOREIGN KEY (scheme, rv_id, body_digest)
        REFERENCES reference_values (scheme, rv_id, body_digest)
);
