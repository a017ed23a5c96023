-- Vouch endorsement store, schema version 3: fleet status.
--
-- Written, like 0001_init.sql, in the common subset of PostgreSQL and SQLite
-- (BYTEA becomes BLOB for SQLite, src/sql.rs).

-- Each attester's last verdict, one row per (scheme, attester id). The id is
-- the base64url text of the attester's trust-anchor id, stored as bytes so
-- that both databases order it bytewise (paging and prefix search).
CREATE TABLE attesters (
    scheme         TEXT    NOT NULL,
    attester_id    BYTEA   NOT NULL,
    status         TEXT    NOT NULL,
    trust_vector   TEXT    NOT NULL,
    first_seen_us  BIGINT  NOT NULL,
    last_seen_us   BIGINT  NOT NULL,
    appraisals     BIGINT  NOT NULL,
    PRIMARY KEY (scheme, attester_id)
);

-- Listing by status (the dashboard's filter), in the same order as the
-- primary key within a status.
CREATE INDEX attesters_by_status ON attesters (status, scheme, attester_id);

-- How many attesters have each (scheme, status) as their last verdict, by
-- the minute of that verdict (by the hour once older than a day; see
-- fleet_meta). Kept by every batch, so the summary reads a few hundred rows
-- whatever the size of the fleet.
CREATE TABLE fleet_counts (
    scheme       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    seen_minute  BIGINT  NOT NULL,
    attesters    BIGINT  NOT NULL,
    PRIMARY KEY (scheme, status, seen_minute)
);

-- Verdicts reached per minute, by scheme and status (the dashboard's
-- chart); kept for 30 days.
CREATE TABLE fleet_history (
    minute    BIGINT  NOT NULL,
    scheme    TEXT    NOT NULL,
    status    TEXT    NOT NULL,
    verdicts  BIGINT  NOT NULL,
    PRIMARY KEY (minute, scheme, status)
);

-- One row: fleet_counts keeps minutes before compacted_before (an hour
-- boundary, in minutes since the epoch) by the hour. Batches lock this row
-- on PostgreSQL, so that they take turns.
CREATE TABLE fleet_meta (
    id                INTEGER  PRIMARY KEY,
    compacted_before  BIGINT   NOT NULL
);
INSERT INTO fleet_meta (id, compacted_before) VALUES (1, 0);
