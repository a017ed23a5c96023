//! SQL shared by the SQLite and PostgreSQL backends.
//!
//! Every statement here is written in the common subset of both dialects
//! (`$n` placeholders, `ON CONFLICT`, standard DDL), so the two backends run
//! the same text. The hot-path queries are public so that tests and operators
//! can `EXPLAIN` exactly what the store runs.

use std::borrow::Cow;
use std::fmt::Write as _;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolOptions;
use sqlx::{AssertSqlSafe, Database, SqlSafeStr, SqlStr};

use crate::StoreConfig;

/// Looks up one trust anchor. Parameters: `$1` scheme, `$2` ta_id. Served by
/// the primary key of `trust_anchors`.
pub const TRUST_ANCHOR_LOOKUP: &str =
    "SELECT rv_id, key_der, not_after FROM trust_anchors WHERE scheme = $1 AND ta_id = $2";

/// Looks up several trust anchors of one scheme on PostgreSQL. Parameters:
/// `$1` scheme, `$2` the ta_ids as a `bytea[]`. One statement text whatever
/// the count; served by the primary key of `trust_anchors`.
pub const TRUST_ANCHORS_LOOKUP_POSTGRES: &str = "SELECT ta_id, rv_id, key_der, not_after \
     FROM trust_anchors WHERE scheme = $1 AND ta_id = ANY($2)";

/// A row of the several-trust-anchor lookups: ta_id, rv_id, key, not_after.
pub(crate) type TrustAnchorRow = (Vec<u8>, Vec<u8>, Vec<u8>, Option<i64>);

/// The records of `rows` found under `scheme`.
pub(crate) fn trust_anchor_records(
    scheme: &str,
    rows: Vec<TrustAnchorRow>,
) -> impl Iterator<Item = crate::TrustAnchorRecord> + '_ {
    rows.into_iter().map(
        move |(ta_id, rv_id, key, not_after)| crate::TrustAnchorRecord {
            scheme: scheme.to_owned(),
            ta_id,
            rv_id,
            key,
            not_after,
        },
    )
}

/// The sizes of SQLite's `IN` lists for several trust anchors: a batch is
/// padded up to the next size (repeating its last id), so the connection's
/// statement cache holds a handful of texts, not one per batch length.
pub(crate) const SQLITE_TRUST_ANCHOR_LISTS: [usize; 4] = [4, 16, 64, 256];

/// Looks up `n` trust anchors of one scheme on SQLite (`n` one of
/// [`SQLITE_TRUST_ANCHOR_LISTS`]). Parameters: `$1` scheme, `$2…` ta_ids.
/// Served by the primary key of `trust_anchors`, one search per id.
pub(crate) fn trust_anchors_lookup_sqlite(n: usize) -> SqlStr {
    let mut sql = String::from(
        "SELECT ta_id, rv_id, key_der, not_after FROM trust_anchors \
         WHERE scheme = $1 AND ta_id IN (",
    );
    for i in 0..n {
        if i > 0 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${}", i + 2);
    }
    sql.push(')');
    AssertSqlSafe(sql).into_sql_str()
}

/// Looks up the reference values of one `rv_id`. Parameters: `$1` scheme,
/// `$2` rv_id. Served by (a prefix of) the primary key of `reference_values`,
/// which also yields the `body_digest` order without a sort.
pub const REFERENCE_VALUES_LOOKUP: &str = "SELECT body, not_after FROM reference_values \
     WHERE scheme = $1 AND rv_id = $2 ORDER BY body_digest";

/// The keys one CoRIM provisioned, for the change feed. Parameter: `$1` the
/// CoRIM digest. Served by `trust_anchors_by_corim` and by the primary key of
/// `corim_reference_values`. An rv_id with several bodies comes back once per
/// body; the caller de-duplicates (cheaper than a DISTINCT, which SQLite
/// would do with a temporary B-tree). Trust anchors since replaced by a later
/// CoRIM are reported by that CoRIM's notification instead.
pub const KEYS_TOUCHED_BY_CORIM: &str = "SELECT 'ta' AS kind, scheme, ta_id AS id \
     FROM trust_anchors WHERE corim_digest = $1 \
     UNION ALL \
     SELECT 'rv' AS kind, scheme, rv_id AS id \
     FROM corim_reference_values WHERE corim_digest = $1";

pub(crate) const STATS: &str = "SELECT \
     (SELECT COUNT(*) FROM corims), \
     (SELECT COUNT(*) FROM trust_anchors), \
     (SELECT COUNT(*) FROM reference_values), \
     (SELECT COUNT(*) FROM corim_reference_values)";

pub(crate) const PING: &str = "SELECT 1";

/// The columns every policy query returns, in the order `policy_from_row` reads them.
macro_rules! policy_columns {
    () => {
        "version, scheme, id, name, rules, active, created_at_us"
    };
}

/// Looks up one policy. Parameters: `$1` scheme, `$2` id. Served by the
/// unique index `policies_by_id`.
pub const POLICY_LOOKUP: &str = concat!(
    "SELECT ",
    policy_columns!(),
    " FROM policies WHERE scheme = $1 AND id = $2"
);

/// Looks up the active policy of a scheme. Parameter: `$1` scheme. Served by
/// the partial unique index `policies_active`.
pub const ACTIVE_POLICY_LOOKUP: &str = concat!(
    "SELECT ",
    policy_columns!(),
    " FROM policies WHERE scheme = $1 AND active"
);

/// Lists the policies of a scheme, oldest first. Parameter: `$1` scheme.
/// Served by `policies_by_version`, which also yields the order.
pub const POLICIES_LIST: &str = concat!(
    "SELECT ",
    policy_columns!(),
    " FROM policies WHERE scheme = $1 ORDER BY version"
);

/// Finds the policy with the same content, for add_policy's idempotency.
/// Parameters: `$1` scheme, `$2` name, `$3` SHA-256 of the rules. Served by
/// the unique index `policies_by_content`.
pub const POLICY_BY_CONTENT: &str = concat!(
    "SELECT ",
    policy_columns!(),
    " FROM policies WHERE scheme = $1 AND name = $2 AND rules_digest = $3"
);

/// Stores a new, inactive policy; no row comes back when a policy with the
/// same `(scheme, id)` or `(scheme, name, rules_digest)` exists (PostgreSQL
/// first waits for a concurrent inserter of the same key to finish).
pub(crate) const INSERT_POLICY: &str = "INSERT INTO policies \
     (scheme, id, name, rules, rules_digest, active, created_at_us) \
     VALUES ($1, $2, $3, $4, $5, FALSE, $6) ON CONFLICT DO NOTHING RETURNING version";

/// The policies of a scheme, in version order, as `(id, active)`, read at
/// the start of an (de)activation. Parameter: `$1` scheme. On PostgreSQL the
/// rows are also locked, always in the same order, so (de)activations of one
/// scheme run one after the other; SQLite transactions are serialised by
/// `BEGIN IMMEDIATE` already. Served by `policies_by_version`, in order.
pub const LOCK_POLICIES_POSTGRES: &str =
    "SELECT id, active FROM policies WHERE scheme = $1 ORDER BY version FOR UPDATE";

/// [`LOCK_POLICIES_POSTGRES`] for SQLite, which has no row locks.
pub const LOCK_POLICIES_SQLITE: &str =
    "SELECT id, active FROM policies WHERE scheme = $1 ORDER BY version";

/// Deactivates the active policy of `$1`. Run before [`ACTIVATE_POLICY`]:
/// `policies_active` is checked row by row, so activating first would fail.
pub(crate) const DEACTIVATE_POLICIES: &str =
    "UPDATE policies SET active = FALSE WHERE scheme = $1 AND active";

/// Activates policy `$2` of scheme `$1`.
pub(crate) const ACTIVATE_POLICY: &str =
    "UPDATE policies SET active = TRUE WHERE scheme = $1 AND id = $2";

/// What an (de)activation found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicySwitch {
    /// No such policy (activation) or no policies at all (deactivation).
    NotFound,
    /// The policies already were as asked.
    Unchanged,
    /// Rows were updated; the change must be announced once committed.
    Changed,
}

/// The row type of the policy queries.
pub(crate) type PolicyRow = (i64, String, Vec<u8>, String, String, bool, i64);

/// Builds a record from a policy row. An id of the wrong length cannot be
/// written through the store, so it means the table was edited by hand.
pub(crate) fn policy_from_row(row: PolicyRow) -> Result<crate::PolicyRecord, sqlx::Error> {
    let (version, scheme, id, name, rules, active, created_at_us) = row;
    let id = <[u8; 16]>::try_from(id.as_slice()).map_err(|_| sqlx::Error::ColumnDecode {
        index: "id".to_owned(),
        source: format!("policy id of {} bytes, not 16", id.len()).into(),
    })?;
    Ok(crate::PolicyRecord {
        id,
        scheme,
        name,
        rules,
        active,
        created_at_us,
        version,
    })
}

/// Decides an activation from the scheme's `(id, active)` rows.
pub(crate) fn plan_activation(rows: &[(Vec<u8>, bool)], id: &[u8; 16]) -> PolicySwitch {
    match rows.iter().find(|(row_id, _)| row_id.as_slice() == id) {
        None => PolicySwitch::NotFound,
        Some((_, true)) => PolicySwitch::Unchanged,
        Some((_, false)) => PolicySwitch::Changed,
    }
}

/// Decides a deactivation from the scheme's `(id, active)` rows.
pub(crate) fn plan_deactivation(rows: &[(Vec<u8>, bool)]) -> PolicySwitch {
    if rows.is_empty() {
        PolicySwitch::NotFound
    } else if rows.iter().any(|(_, active)| *active) {
        PolicySwitch::Changed
    } else {
        PolicySwitch::Unchanged
    }
}

/// `rows_affected() == 0` means the CoRIM was stored before.
pub(crate) const INSERT_CORIM: &str = "INSERT INTO corims \
     (digest, scheme, media_type, profile, corim_id, not_after, added_at, body) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (digest) DO NOTHING";

/// Rows per multi-row statement on PostgreSQL: 2,561 parameters at most
/// (the limit is 65,535), and 10,000 rows take about twenty round trips.
pub(crate) const POSTGRES_BATCH_ROWS: usize = 512;

/// Rows per multi-row statement on SQLite. There is no round trip to save,
/// and binding `$n` parameters costs time quadratic in their number (SQLite
/// looks each name up in a list), so small batches are fastest: with 10,000
/// trust anchors and 10,000 reference values, 32 rows took about 0.1 s where
/// 512 rows took 0.6 s and 2,048 rows 1.9 s.
pub(crate) const SQLITE_BATCH_ROWS: usize = 32;

/// Upserts `rows` trust anchors. `$1` is the CoRIM digest, shared by all rows;
/// each row then binds scheme, ta_id, rv_id, key_der, not_after. The latest
/// provisioned CoRIM wins, including its provenance.
pub(crate) fn upsert_trust_anchors(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(200 + rows * 40);
    sql.push_str(
        "INSERT INTO trust_anchors (corim_digest, scheme, ta_id, rv_id, key_der, not_after) VALUES ",
    );
    push_rows(&mut sql, rows, 5, true);
    sql.push_str(
        " ON CONFLICT (scheme, ta_id) DO UPDATE SET \
         rv_id = excluded.rv_id, key_der = excluded.key_der, \
         not_after = excluded.not_after, corim_digest = excluded.corim_digest",
    );
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// Inserts `rows` reference values (scheme, rv_id, body_digest, body,
/// not_after each). An existing row is rewritten only when the new assertion
/// extends its validity, so re-asserting a known value costs no row write.
pub(crate) fn upsert_reference_values(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(300 + rows * 40);
    sql.push_str(
        "INSERT INTO reference_values (scheme, rv_id, body_digest, body, not_after) VALUES ",
    );
    push_rows(&mut sql, rows, 5, false);
    sql.push_str(
        " ON CONFLICT (scheme, rv_id, body_digest) DO UPDATE SET not_after = excluded.not_after \
         WHERE reference_values.not_after IS NOT NULL \
         AND (excluded.not_after IS NULL OR excluded.not_after > reference_values.not_after)",
    );
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// Links `rows` reference values to the CoRIM `$1`; each row binds scheme,
/// rv_id, body_digest. The CoRIM is new in this transaction and the rows are
/// unique, so there is nothing to conflict with.
pub(crate) fn insert_reference_value_links(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(120 + rows * 24);
    sql.push_str(
        "INSERT INTO corim_reference_values (corim_digest, scheme, rv_id, body_digest) VALUES ",
    );
    push_rows(&mut sql, rows, 3, true);
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// Appends `rows` tuples of `per_row` placeholders, each prefixed by `$1`
/// when `shared_first` is set.
fn push_rows(sql: &mut String, rows: usize, per_row: usize, shared_first: bool) {
    let mut next = if shared_first { 2 } else { 1 };
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        if shared_first {
            sql.push_str("$1, ");
        }
        for column in 0..per_row {
            if column > 0 {
                sql.push_str(", ");
            }
            // Writing to a String cannot fail.
            let _ = write!(sql, "${next}");
            next += 1;
        }
        sql.push(')');
    }
}

/// Reads `fleet_meta` at the start of a fleet batch; on PostgreSQL it locks
/// the row, so batches from every instance take turns and each reads the
/// attester rows it replaces as they are.
pub const LOCK_FLEET_POSTGRES: &str =
    "SELECT compacted_before FROM fleet_meta WHERE id = 1 FOR UPDATE";

/// [`LOCK_FLEET_POSTGRES`] for SQLite, where `BEGIN IMMEDIATE` already
/// makes batches take turns.
pub const LOCK_FLEET_SQLITE: &str = "SELECT compacted_before FROM fleet_meta WHERE id = 1";

/// Attesters per scheme and status, with those last seen before minute `$1`
/// (an hour bucket counts once all of its hour is before `$1`). Reads
/// `fleet_counts`, whose size does not grow with the fleet.
pub const FLEET_COUNTS: &str = "SELECT c.scheme, c.status, \
     CAST(SUM(c.attesters) AS BIGINT), \
     CAST(SUM(CASE WHEN c.seen_minute + \
         (CASE WHEN c.seen_minute < m.compacted_before THEN 60 ELSE 1 END) <= $1 \
         THEN c.attesters ELSE 0 END) AS BIGINT) \
     FROM fleet_counts c, fleet_meta m WHERE m.id = 1 \
     GROUP BY c.scheme, c.status ORDER BY c.scheme, c.status";

/// Verdict counts from minute `$1` on. Served by the primary key of
/// `fleet_history`, which also gives the order.
pub const FLEET_HISTORY: &str = "SELECT minute, scheme, status, verdicts FROM fleet_history \
     WHERE minute >= $1 ORDER BY minute, scheme, status";

/// The columns of an attester listing, in the order `attester_from_row`
/// reads them.
const ATTESTER_COLUMNS: &str =
    "scheme, attester_id, status, trust_vector, first_seen_us, last_seen_us, appraisals";

/// The row type of attester listings.
pub(crate) type AttesterRow = (String, Vec<u8>, String, String, i64, i64, i64);

/// Builds a record from an attester row. Ids are written as base64url text,
/// so anything else means the table was edited by hand.
pub(crate) fn attester_from_row(row: AttesterRow) -> Result<crate::AttesterRecord, sqlx::Error> {
    let (scheme, id, status, trust_vector, first_seen_us, last_seen_us, appraisals) = row;
    let attester_id = String::from_utf8(id).map_err(|e| sqlx::Error::ColumnDecode {
        index: "attester_id".to_owned(),
        source: Box::new(e),
    })?;
    Ok(crate::AttesterRecord {
        scheme,
        attester_id,
        status,
        trust_vector,
        first_seen_us,
        last_seen_us,
        appraisals: u64::try_from(appraisals).unwrap_or(0),
    })
}

/// A value bound to a built query, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param<'a> {
    Text(&'a str),
    Bytes(Vec<u8>),
    Int(i64),
}

/// The listing of [`crate::FleetStore::attesters`]: one statement per
/// combination of filters, so that each is planned for its own index
/// (`attesters_by_status` with a status, the primary key otherwise) and
/// none needs a sort.
pub(crate) fn list_attesters(query: &crate::AttesterQuery) -> (SqlStr, Vec<Param<'_>>) {
    // The placeholder of the parameter pushed last.
    fn next(params: &[Param<'_>]) -> String {
        format!("${}", params.len())
    }
    let mut conditions: Vec<String> = Vec::new();
    let mut params = Vec::new();
    if let Some(scheme) = &query.scheme {
        params.push(Param::Text(scheme));
        conditions.push(format!("scheme = {}", next(&params)));
    }
    if let Some(status) = &query.status {
        params.push(Param::Text(status));
        conditions.push(format!("status = {}", next(&params)));
    }
    if let Some(prefix) = &query.id_prefix {
        params.push(Param::Bytes(prefix.as_bytes().to_vec()));
        let from = next(&params);
        params.push(Param::Bytes(crate::fleet::prefix_end(prefix)));
        conditions.push(format!(
            "attester_id >= {from} AND attester_id < {}",
            next(&params)
        ));
    }
    if let Some(before) = query.seen_before_us {
        params.push(Param::Int(before));
        conditions.push(format!("last_seen_us < {}", next(&params)));
    }
    if let Some((scheme, id)) = &query.after {
        params.push(Param::Text(scheme));
        let scheme = next(&params);
        params.push(Param::Bytes(id.as_bytes().to_vec()));
        conditions.push(format!(
            "(scheme, attester_id) > ({scheme}, {})",
            next(&params)
        ));
    }
    params.push(Param::Int(i64::from(query.limit)));
    let limit = next(&params);
    let mut sql = format!("SELECT {ATTESTER_COLUMNS} FROM attesters");
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    // Writing to a String cannot fail.
    let _ = write!(sql, " ORDER BY scheme, attester_id LIMIT {limit}");
    // Built only from constants and numbered placeholders.
    (AssertSqlSafe(sql).into_sql_str(), params)
}

/// What writing a verdict does to a stored attester: it takes the
/// verdict, adds the appraisals and keeps its first-seen time.
macro_rules! on_attester_conflict {
    () => {
        " ON CONFLICT (scheme, attester_id) DO UPDATE SET \
         status = excluded.status, trust_vector = excluded.trust_vector, \
         last_seen_us = excluded.last_seen_us, \
         appraisals = attesters.appraisals + excluded.appraisals"
    };
}

/// Reads the stored status and last verdict time of `rows` attesters, each
/// binding scheme and attester_id (SQLite). Served by the primary key.
pub(crate) fn select_previous_verdicts(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(120 + rows * 12);
    sql.push_str(
        "SELECT scheme, attester_id, status, last_seen_us FROM attesters \
         WHERE (scheme, attester_id) IN (VALUES ",
    );
    push_rows(&mut sql, rows, 2, false);
    sql.push(')');
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// Writes `rows` verdicts (scheme, attester_id, status, trust_vector,
/// seen_us, appraisals each; SQLite): a new attester starts first seen
/// now, a known one takes the verdict and adds the appraisals.
pub(crate) fn upsert_attesters(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(400 + rows * 30);
    sql.push_str(
        "INSERT INTO attesters (scheme, attester_id, status, trust_vector, \
         first_seen_us, last_seen_us, appraisals) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let p = 6 * row;
        // The verdict time is both first and last seen for a new attester.
        let _ = write!(
            sql,
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 5,
            p + 6
        );
    }
    sql.push_str(on_attester_conflict!());
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// [`select_previous_verdicts`] for PostgreSQL, in one statement whatever
/// the batch: `$1` schemes and `$2` attester ids, as arrays. A list of
/// 512 `($n, $m)` pairs took 21 ms to plan and run per chunk.
pub(crate) const PREVIOUS_VERDICTS_POSTGRES: &str = "SELECT a.scheme, a.attester_id, a.status, a.last_seen_us \
     FROM unnest($1::text[], $2::bytea[]) AS k(scheme, attester_id) \
     JOIN attesters a ON a.scheme = k.scheme AND a.attester_id = k.attester_id";

/// [`upsert_attesters`] for PostgreSQL: `$1` schemes, `$2` attester ids,
/// `$3` statuses, `$4` trust vectors, `$5` verdict times and `$6`
/// appraisals, as arrays of one element per verdict.
pub(crate) const UPSERT_ATTESTERS_POSTGRES: &str = concat!(
    "INSERT INTO attesters (scheme, attester_id, status, trust_vector, \
     first_seen_us, last_seen_us, appraisals) \
     SELECT scheme, attester_id, status, trust_vector, seen_us, seen_us, appraisals \
     FROM unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::bigint[], $6::bigint[]) \
     AS k(scheme, attester_id, status, trust_vector, seen_us, appraisals)",
    on_attester_conflict!()
);

/// Adds appraisals to an attester whose stored verdict is later than the
/// batch's. Parameters: `$1` scheme, `$2` attester_id, `$3` appraisals.
pub(crate) const ADD_LATE_APPRAISALS: &str = "UPDATE attesters SET appraisals = appraisals + $3 \
     WHERE scheme = $1 AND attester_id = $2";

/// Adds `rows` changes (scheme, status, seen_minute, change each) to
/// `fleet_counts`.
pub(crate) fn add_fleet_counts(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(200 + rows * 24);
    sql.push_str("INSERT INTO fleet_counts (scheme, status, seen_minute, attesters) VALUES ");
    push_rows(&mut sql, rows, 4, false);
    sql.push_str(
        " ON CONFLICT (scheme, status, seen_minute) DO UPDATE SET \
         attesters = fleet_counts.attesters + excluded.attesters",
    );
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// Drops the buckets a batch emptied.
pub(crate) const DROP_EMPTY_FLEET_COUNTS: &str = "DELETE FROM fleet_counts WHERE attesters = 0";

/// Adds `rows` history counts (minute, scheme, status, verdicts each).
pub(crate) fn add_fleet_history(rows: usize) -> SqlStr {
    let mut sql = String::with_capacity(200 + rows * 24);
    sql.push_str("INSERT INTO fleet_history (minute, scheme, status, verdicts) VALUES ");
    push_rows(&mut sql, rows, 4, false);
    sql.push_str(
        " ON CONFLICT (minute, scheme, status) DO UPDATE SET \
         verdicts = fleet_history.verdicts + excluded.verdicts",
    );
    // Built only from constants and numbered placeholders.
    AssertSqlSafe(sql).into_sql_str()
}

/// Merges the minute buckets in `[$1, $2)` into their hours. (SQLite needs
/// the `WHERE` to tell the upsert's `ON` from a join's.)
pub(crate) const COMPACT_FLEET_COUNTS: &str = "INSERT INTO fleet_counts \
     (scheme, status, seen_minute, attesters) \
     SELECT scheme, status, seen_minute - (seen_minute % 60), SUM(attesters) FROM fleet_counts \
     WHERE seen_minute >= $1 AND seen_minute < $2 AND seen_minute % 60 <> 0 \
     GROUP BY scheme, status, seen_minute - (seen_minute % 60) \
     ON CONFLICT (scheme, status, seen_minute) DO UPDATE SET \
     attesters = fleet_counts.attesters + excluded.attesters";

/// Drops the minute buckets [`COMPACT_FLEET_COUNTS`] merged.
pub(crate) const DROP_COMPACTED_FLEET_COUNTS: &str = "DELETE FROM fleet_counts \
     WHERE seen_minute >= $1 AND seen_minute < $2 AND seen_minute % 60 <> 0";

/// Records how far compaction reached. Parameter: `$1` the minute.
pub(crate) const SET_FLEET_COMPACTED: &str =
    "UPDATE fleet_meta SET compacted_before = $1 WHERE id = 1";

/// Forgets history before minute `$1`.
pub(crate) const PRUNE_FLEET_HISTORY: &str = "DELETE FROM fleet_history WHERE minute < $1";

/// The SQL dialect a migration is rendered for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

const INIT_SQL: &str = include_str!("../migrations/0001_init.sql");
const POLICIES_SQL: &str = include_str!("../migrations/0002_policies.sql");
const FLEET_SQL: &str = include_str!("../migrations/0003_fleet.sql");

/// Name of the table that records applied migrations. Our own name, so the
/// store can share a database with other sqlx users without their migration
/// histories colliding.
pub(crate) const MIGRATIONS_TABLE: &str = "vouch_store_migrations";

/// The embedded migrations, rendered for `dialect`.
pub(crate) fn migrator(dialect: Dialect) -> Migrator {
    let migration = |version: i64, description: &'static str, sql: &'static str| {
        Migration::new(
            version,
            Cow::Borrowed(description),
            MigrationType::Simple,
            render(dialect, sql),
            false,
        )
    };
    let mut migrator = Migrator::with_migrations(vec![
        migration(1, "init", INIT_SQL),
        migration(2, "policies", POLICIES_SQL),
        migration(3, "fleet", FLEET_SQL),
    ]);
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
}

/// Renders a migration written in the common dialect (see the migrations'
/// headers). The rewrites must never change an applied migration's text:
/// sqlx refuses to run when a checksum changes.
fn render(dialect: Dialect, sql: &'static str) -> SqlStr {
    match dialect {
        Dialect::Postgres => SqlStr::from_static(sql),
        // SQLite spells the byte-string type BLOB (BYTEA would get NUMERIC
        // affinity there), and a never-reused sequence INTEGER PRIMARY KEY
        // AUTOINCREMENT (the only form of AUTOINCREMENT SQLite has).
        Dialect::Sqlite => AssertSqlSafe(
            sql.replace("BYTEA", "BLOB")
                .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT"),
        )
        .into_sql_str(),
    }
}

/// Pool settings shared by both SQL backends.
pub(crate) fn pool_options<DB: Database>(config: &StoreConfig) -> PoolOptions<DB> {
    PoolOptions::<DB>::new()
        .max_connections(config.max_connections)
        .min_connections(config.min_connections)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout)
        .max_lifetime(config.max_lifetime)
        .test_before_acquire(config.test_before_acquire)
}

/// Takes a connection from `pool`, recording how long that took in `wait`
/// (the queueing a too-small pool causes, exported as
/// `vouch_db_pool_acquire_seconds`).
pub(crate) async fn timed_acquire<DB: Database>(
    pool: &sqlx::Pool<DB>,
    wait: &vouch_metrics::Histogram,
) -> Result<sqlx::pool::PoolConnection<DB>, sqlx::Error> {
    let started = std::time::Instant::now();
    let connection = pool.acquire().await;
    wait.observe(started.elapsed().as_secs_f64());
    connection
}

/// A SQL pool's size and use, read at each scrape.
pub(crate) struct PoolView<DB: Database>(pub(crate) sqlx::Pool<DB>);

impl<DB: Database> vouch_metrics::PoolGauge for PoolView<DB> {
    fn max_connections(&self) -> u32 {
        self.0.options().get_max_connections()
    }

    fn open_connections(&self) -> u32 {
        self.0.size()
    }

    fn idle_connections(&self) -> u32 {
        u32::try_from(self.0.num_idle()).unwrap_or(u32::MAX)
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Defines the queries whose text and row handling are identical on both SQL
/// backends, as free functions over the concrete database type `$db`
/// (generic code over `sqlx::Database` would need a long list of
/// higher-ranked bounds for no gain). `$batch_rows` is the number of rows per
/// multi-row insert; `$lock_policies` is the statement that starts a policy
/// switch ([`LOCK_POLICIES_POSTGRES`] or [`LOCK_POLICIES_SQLITE`]) and
/// `$lock_fleet` the one that starts a fleet batch ([`LOCK_FLEET_POSTGRES`]
/// or [`LOCK_FLEET_SQLITE`]). Each backend defines how it reads and
/// writes many attester rows at once (`previous_verdicts`,
/// `write_verdicts`, `FLEET_ROWS`): PostgreSQL binds arrays, SQLite
/// numbered placeholders.
macro_rules! common_queries {
    (
        $db:ty,
        batch_rows: $batch_rows:expr,
        lock_policies: $lock_policies:expr,
        lock_fleet: $lock_fleet:expr
    ) => {
        /// Reads (and on PostgreSQL locks) a scheme's policies before a switch.
        const LOCK_POLICIES: &str = $lock_policies;

        /// Reads (and on PostgreSQL locks) `fleet_meta` before a fleet batch.
        const LOCK_FLEET: &str = $lock_fleet;

        /// Writes a prepared fleet batch inside `tx`: compacts old counts
        /// when due, reads the rows the verdicts replace, writes the
        /// verdicts and moves the counts, and adds the history.
        async fn write_fleet_batch(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            batch: &$crate::FleetBatch,
            verdicts: &[&$crate::FleetVerdict],
            now_us: i64,
        ) -> Result<(), ::sqlx::Error> {
            let mut compacted_before: i64 = ::sqlx::query_scalar(LOCK_FLEET)
                .fetch_one(&mut **tx)
                .await?;
            let target = $crate::fleet::compaction_target(now_us);
            if target > compacted_before {
                for statement in [
                    $crate::sql::COMPACT_FLEET_COUNTS,
                    $crate::sql::DROP_COMPACTED_FLEET_COUNTS,
                ] {
                    ::sqlx::query(statement)
                        .bind(compacted_before)
                        .bind(target)
                        .execute(&mut **tx)
                        .await?;
                }
                ::sqlx::query($crate::sql::SET_FLEET_COMPACTED)
                    .bind(target)
                    .execute(&mut **tx)
                    .await?;
                ::sqlx::query($crate::sql::PRUNE_FLEET_HISTORY)
                    .bind($crate::fleet::minute_of(now_us) - $crate::fleet::HISTORY_MINUTES)
                    .execute(&mut **tx)
                    .await?;
                compacted_before = target;
            }

            let max: usize = $batch_rows;
            let mut counts: ::std::collections::BTreeMap<(String, String, i64), i64> =
                ::std::collections::BTreeMap::new();
            for chunk in verdicts.chunks(FLEET_ROWS) {
                let previous = previous_verdicts(tx, chunk)
                    .await?
                    .into_iter()
                    .filter_map(|(scheme, id, status, last_seen_us)| {
                        let id = String::from_utf8(id).ok()?;
                        Some((
                            (scheme, id),
                            $crate::fleet::Previous {
                                status,
                                last_seen_us,
                            },
                        ))
                    })
                    .collect();
                let plan = $crate::fleet::plan(chunk, &previous, compacted_before);
                if !plan.writes.is_empty() {
                    write_verdicts(tx, &plan.writes).await?;
                }
                for verdict in &plan.late {
                    ::sqlx::query($crate::sql::ADD_LATE_APPRAISALS)
                        .bind(verdict.scheme.as_str())
                        .bind(verdict.attester_id.as_bytes())
                        .bind(i64::try_from(verdict.appraisals).unwrap_or(i64::MAX))
                        .execute(&mut **tx)
                        .await?;
                }
                for (key, change) in plan.counts {
                    *counts.entry(key).or_default() += change;
                }
            }
            counts.retain(|_, change| *change != 0);
            let counts: Vec<_> = counts.into_iter().collect();
            for chunk in counts.chunks(max) {
                let mut query = ::sqlx::query($crate::sql::add_fleet_counts(chunk.len()));
                for ((scheme, status, minute), change) in chunk {
                    query = query
                        .bind(scheme.as_str())
                        .bind(status.as_str())
                        .bind(*minute)
                        .bind(*change);
                }
                query.execute(&mut **tx).await?;
            }
            if !counts.is_empty() {
                ::sqlx::query($crate::sql::DROP_EMPTY_FLEET_COUNTS)
                    .execute(&mut **tx)
                    .await?;
            }

            let history: Vec<_> = $crate::fleet::history_totals(batch).into_iter().collect();
            for chunk in history.chunks(max) {
                let mut query = ::sqlx::query($crate::sql::add_fleet_history(chunk.len()));
                for ((minute, scheme, status), verdicts) in chunk {
                    query = query
                        .bind(*minute)
                        .bind(*scheme)
                        .bind(*status)
                        .bind(i64::try_from(*verdicts).unwrap_or(i64::MAX));
                }
                query.execute(&mut **tx).await?;
            }
            Ok(())
        }

        async fn fetch_fleet_counts(
            pool: &::sqlx::Pool<$db>,
            stale_before_minute: i64,
        ) -> Result<Vec<$crate::StatusCount>, ::sqlx::Error> {
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok(
                ::sqlx::query_as::<_, (String, String, i64, i64)>($crate::sql::FLEET_COUNTS)
                    .bind(stale_before_minute)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|(scheme, status, attesters, stale)| $crate::StatusCount {
                        scheme,
                        status,
                        attesters: count(attesters),
                        stale: count(stale),
                    })
                    .collect(),
            )
        }

        async fn fetch_attesters(
            pool: &::sqlx::Pool<$db>,
            query: &$crate::AttesterQuery,
        ) -> Result<Vec<$crate::AttesterRecord>, ::sqlx::Error> {
            let (sql, params) = $crate::sql::list_attesters(query);
            let mut statement = ::sqlx::query_as::<_, $crate::sql::AttesterRow>(sql);
            for param in params {
                statement = match param {
                    $crate::sql::Param::Text(text) => statement.bind(text),
                    $crate::sql::Param::Bytes(bytes) => statement.bind(bytes),
                    $crate::sql::Param::Int(int) => statement.bind(int),
                };
            }
            statement
                .fetch_all(pool)
                .await?
                .into_iter()
                .map($crate::sql::attester_from_row)
                .collect()
        }

        async fn fetch_fleet_history(
            pool: &::sqlx::Pool<$db>,
            since_minute: i64,
        ) -> Result<Vec<$crate::VerdictCount>, ::sqlx::Error> {
            Ok(
                ::sqlx::query_as::<_, (i64, String, String, i64)>($crate::sql::FLEET_HISTORY)
                    .bind(since_minute)
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .map(|(minute, scheme, status, verdicts)| $crate::VerdictCount {
                        minute,
                        scheme,
                        status,
                        verdicts: u64::try_from(verdicts).unwrap_or(0),
                    })
                    .collect(),
            )
        }

        /// Inserts a prepared submission inside `tx`. Returns `false`, having
        /// written nothing, when the CoRIM was stored before.
        async fn insert_submission(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            prepared: &$crate::prepare::Prepared<'_>,
        ) -> Result<bool, ::sqlx::Error> {
            let corim = &prepared.submission.corim;
            let digest = &corim.digest[..];
            let inserted = ::sqlx::query($crate::sql::INSERT_CORIM)
                .bind(digest)
                .bind(corim.scheme.as_str())
                .bind(corim.media_type.as_str())
                .bind(corim.profile.as_str())
                .bind(corim.corim_id.as_str())
                .bind(corim.not_after)
                .bind($crate::sql::unix_now())
                .bind(corim.body.as_slice())
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if inserted == 0 {
                return Ok(false);
            }

            let max: usize = $batch_rows;
            for batch in $crate::prepare::batches(&prepared.trust_anchors, max) {
                let mut query =
                    ::sqlx::query($crate::sql::upsert_trust_anchors(batch.len())).bind(digest);
                for ta in batch {
                    query = query
                        .bind(ta.scheme.as_str())
                        .bind(ta.ta_id.as_slice())
                        .bind(ta.rv_id.as_slice())
                        .bind(ta.key.as_slice())
                        .bind(ta.not_after);
                }
                query.execute(&mut **tx).await?;
            }

            for batch in $crate::prepare::batches(&prepared.reference_values, max) {
                let mut query = ::sqlx::query($crate::sql::upsert_reference_values(batch.len()));
                for rv in batch {
                    query = query
                        .bind(rv.record.scheme.as_str())
                        .bind(rv.record.rv_id.as_slice())
                        .bind(&rv.body_digest[..])
                        .bind(rv.record.body.as_slice())
                        .bind(rv.not_after);
                }
                query.execute(&mut **tx).await?;
            }

            for batch in $crate::prepare::batches(&prepared.reference_values, max) {
                let mut query =
                    ::sqlx::query($crate::sql::insert_reference_value_links(batch.len()))
                        .bind(digest);
                for rv in batch {
                    query = query
                        .bind(rv.record.scheme.as_str())
                        .bind(rv.record.rv_id.as_slice())
                        .bind(&rv.body_digest[..]);
                }
                query.execute(&mut **tx).await?;
            }
            Ok(true)
        }

        async fn fetch_trust_anchor(
            conn: &mut <$db as ::sqlx::Database>::Connection,
            scheme: &str,
            ta_id: &[u8],
        ) -> Result<Option<$crate::TrustAnchorRecord>, ::sqlx::Error> {
            let row: Option<(Vec<u8>, Vec<u8>, Option<i64>)> =
                ::sqlx::query_as($crate::sql::TRUST_ANCHOR_LOOKUP)
                    .bind(scheme)
                    .bind(ta_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            Ok(
                row.map(|(rv_id, key, not_after)| $crate::TrustAnchorRecord {
                    scheme: scheme.to_owned(),
                    ta_id: ta_id.to_vec(),
                    rv_id,
                    key,
                    not_after,
                }),
            )
        }

        async fn fetch_reference_values(
            conn: &mut <$db as ::sqlx::Database>::Connection,
            scheme: &str,
            rv_id: &[u8],
        ) -> Result<Vec<$crate::ReferenceValueRecord>, ::sqlx::Error> {
            let rows: Vec<(Vec<u8>, Option<i64>)> =
                ::sqlx::query_as($crate::sql::REFERENCE_VALUES_LOOKUP)
                    .bind(scheme)
                    .bind(rv_id)
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(rows
                .into_iter()
                .map(|(body, not_after)| $crate::ReferenceValueRecord {
                    scheme: scheme.to_owned(),
                    rv_id: rv_id.to_vec(),
                    body,
                    not_after,
                })
                .collect())
        }

        async fn fetch_touched_keys(
            pool: &::sqlx::Pool<$db>,
            digest: &[u8; 32],
        ) -> Result<$crate::feed::TouchedKeys, ::sqlx::Error> {
            let rows: Vec<(String, String, Vec<u8>)> =
                ::sqlx::query_as($crate::sql::KEYS_TOUCHED_BY_CORIM)
                    .bind(&digest[..])
                    .fetch_all(pool)
                    .await?;
            let mut touched = $crate::feed::TouchedKeys::default();
            for (kind, scheme, id) in rows {
                if kind == "ta" {
                    touched.add_trust_anchor(&scheme, &id);
                } else {
                    touched.add_reference_value(&scheme, &id);
                }
            }
            Ok(touched)
        }

        async fn fetch_stats(
            pool: &::sqlx::Pool<$db>,
        ) -> Result<$crate::StoreStats, ::sqlx::Error> {
            let (corims, trust_anchors, reference_values, links): (i64, i64, i64, i64) =
                ::sqlx::query_as($crate::sql::STATS).fetch_one(pool).await?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            Ok($crate::StoreStats {
                corims: count(corims),
                trust_anchors: count(trust_anchors),
                reference_values: count(reference_values),
                reference_value_links: count(links),
            })
        }

        /// Stores `policy` (with its rules digest) inside `tx`. `None`, having
        /// written nothing, when its id is taken by a different policy.
        async fn insert_policy(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            policy: &$crate::NewPolicy,
            rules_digest: &[u8; 32],
        ) -> Result<Option<$crate::AddPolicyOutcome>, ::sqlx::Error> {
            let version: Option<i64> = ::sqlx::query_scalar($crate::sql::INSERT_POLICY)
                .bind(policy.scheme.as_str())
                .bind(&policy.id[..])
                .bind(policy.name.as_str())
                .bind(policy.rules.as_str())
                .bind(&rules_digest[..])
                .bind(policy.created_at_us)
                .fetch_optional(&mut **tx)
                .await?;
            if let Some(version) = version {
                return Ok(Some($crate::AddPolicyOutcome::Stored(
                    $crate::PolicyRecord {
                        id: policy.id,
                        scheme: policy.scheme.clone(),
                        name: policy.name.clone(),
                        rules: policy.rules.clone(),
                        active: false,
                        created_at_us: policy.created_at_us,
                        version,
                    },
                )));
            }
            let existing: Option<$crate::sql::PolicyRow> =
                ::sqlx::query_as($crate::sql::POLICY_BY_CONTENT)
                    .bind(policy.scheme.as_str())
                    .bind(policy.name.as_str())
                    .bind(&rules_digest[..])
                    .fetch_optional(&mut **tx)
                    .await?;
            existing
                .map(|row| {
                    $crate::sql::policy_from_row(row).map($crate::AddPolicyOutcome::AlreadyStored)
                })
                .transpose()
        }

        /// Makes policy `id` the only active one of `scheme` inside `tx`.
        async fn switch_policy_on(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            scheme: &str,
            id: &[u8; 16],
        ) -> Result<$crate::sql::PolicySwitch, ::sqlx::Error> {
            let rows: Vec<(Vec<u8>, bool)> = ::sqlx::query_as(LOCK_POLICIES)
                .bind(scheme)
                .fetch_all(&mut **tx)
                .await?;
            let plan = $crate::sql::plan_activation(&rows, id);
            if plan == $crate::sql::PolicySwitch::Changed {
                ::sqlx::query($crate::sql::DEACTIVATE_POLICIES)
                    .bind(scheme)
                    .execute(&mut **tx)
                    .await?;
                ::sqlx::query($crate::sql::ACTIVATE_POLICY)
                    .bind(scheme)
                    .bind(&id[..])
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(plan)
        }

        /// Deactivates every policy of `scheme` inside `tx`.
        async fn switch_policies_off(
            tx: &mut ::sqlx::Transaction<'_, $db>,
            scheme: &str,
        ) -> Result<$crate::sql::PolicySwitch, ::sqlx::Error> {
            let rows: Vec<(Vec<u8>, bool)> = ::sqlx::query_as(LOCK_POLICIES)
                .bind(scheme)
                .fetch_all(&mut **tx)
                .await?;
            let plan = $crate::sql::plan_deactivation(&rows);
            if plan == $crate::sql::PolicySwitch::Changed {
                ::sqlx::query($crate::sql::DEACTIVATE_POLICIES)
                    .bind(scheme)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(plan)
        }

        async fn fetch_policy(
            pool: &::sqlx::Pool<$db>,
            query: &'static str,
            scheme: &str,
            id: Option<&[u8; 16]>,
        ) -> Result<Option<$crate::PolicyRecord>, ::sqlx::Error> {
            let mut query = ::sqlx::query_as::<_, $crate::sql::PolicyRow>(query).bind(scheme);
            if let Some(id) = id {
                query = query.bind(&id[..]);
            }
            query
                .fetch_optional(pool)
                .await?
                .map($crate::sql::policy_from_row)
                .transpose()
        }

        async fn fetch_policies(
            pool: &::sqlx::Pool<$db>,
            scheme: &str,
        ) -> Result<Vec<$crate::PolicyRecord>, ::sqlx::Error> {
            ::sqlx::query_as::<_, $crate::sql::PolicyRow>($crate::sql::POLICIES_LIST)
                .bind(scheme)
                .fetch_all(pool)
                .await?
                .into_iter()
                .map($crate::sql::policy_from_row)
                .collect()
        }

        async fn run_ping(pool: &::sqlx::Pool<$db>) -> Result<(), ::sqlx::Error> {
            ::sqlx::query($crate::sql::PING)
                .execute(pool)
                .await
                .map(|_| ())
        }
    };
}

pub(crate) use common_queries;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_statements_number_their_placeholders() {
        let sql = upsert_trust_anchors(2);
        assert!(
            sql.as_str()
                .contains("VALUES ($1, $2, $3, $4, $5, $6), ($1, $7, $8, $9, $10, $11) ON"),
            "{}",
            sql.as_str()
        );
        let sql = upsert_reference_values(2);
        assert!(
            sql.as_str()
                .contains("VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10) ON"),
            "{}",
            sql.as_str()
        );
        let sql = insert_reference_value_links(1);
        assert!(
            sql.as_str().ends_with("VALUES ($1, $2, $3, $4)"),
            "{}",
            sql.as_str()
        );
    }

    #[test]
    fn attester_listings_number_their_filters_in_order() {
        let all = crate::AttesterQuery {
            scheme: Some("PSA_IOT".into()),
            status: Some("warning".into()),
            id_prefix: Some("AQ".into()),
            seen_before_us: Some(7),
            after: Some(("PSA_IOT".into(), "AQz".into())),
            limit: 10,
        };
        let (sql, params) = list_attesters(&all);
        assert!(
            sql.as_str().ends_with(
                "FROM attesters WHERE scheme = $1 AND status = $2 \
                 AND attester_id >= $3 AND attester_id < $4 AND last_seen_us < $5 \
                 AND (scheme, attester_id) > ($6, $7) ORDER BY scheme, attester_id LIMIT $8"
            ),
            "{}",
            sql.as_str()
        );
        assert_eq!(
            params,
            [
                Param::Text("PSA_IOT"),
                Param::Text("warning"),
                Param::Bytes(b"AQ".to_vec()),
                Param::Bytes(b"AR".to_vec()),
                Param::Int(7),
                Param::Text("PSA_IOT"),
                Param::Bytes(b"AQz".to_vec()),
                Param::Int(10),
            ]
        );
        let none = crate::AttesterQuery::all(5);
        let (sql, params) = list_attesters(&none);
        assert!(
            sql.as_str()
                .ends_with("FROM attesters ORDER BY scheme, attester_id LIMIT $1"),
            "{}",
            sql.as_str()
        );
        assert_eq!(params, [Param::Int(5)]);
        assert!(
            upsert_attesters(2).as_str().contains(
                "VALUES ($1, $2, $3, $4, $5, $5, $6), ($7, $8, $9, $10, $11, $11, $12) ON"
            )
        );
    }

    #[test]
    fn sqlite_migrations_differ_only_in_the_byte_and_sequence_types() {
        let render = |dialect| {
            migrator(dialect)
                .iter()
                .map(|m| m.sql.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        let postgres = render(Dialect::Postgres);
        let sqlite = render(Dialect::Sqlite);
        assert_eq!(postgres.len(), 3);
        assert_eq!(sqlite.len(), 3);
        assert!(postgres[0].contains("BYTEA"));
        // The first migration's text must never change (sqlx checksums it).
        assert_eq!(sqlite[0], INIT_SQL.replace("BYTEA", "BLOB"));
        assert!(postgres[1].contains("BIGSERIAL PRIMARY KEY"));
        for (sqlite, postgres) in sqlite.iter().zip(&postgres) {
            assert!(!sqlite.contains("BYTEA") && !sqlite.contains("BIGSERIAL"));
            assert_eq!(
                *sqlite,
                postgres
                    .replace("BYTEA", "BLOB")
                    .replace("BIGSERIAL PRIMARY KEY", "INTEGER PRIMARY KEY AUTOINCREMENT")
            );
        }
    }

    #[test]
    fn policy_switches_are_planned_from_the_rows() {
        let rows = vec![(vec![1; 16], false), (vec![2; 16], true)];
        assert_eq!(plan_activation(&rows, &[1; 16]), PolicySwitch::Changed);
        assert_eq!(plan_activation(&rows, &[2; 16]), PolicySwitch::Unchanged);
        assert_eq!(plan_activation(&rows, &[3; 16]), PolicySwitch::NotFound);
        assert_eq!(plan_deactivation(&rows), PolicySwitch::Changed);
        assert_eq!(plan_deactivation(&rows[..1]), PolicySwitch::Unchanged);
        assert_eq!(plan_deactivation(&[]), PolicySwitch::NotFound);
        assert!(
            policy_from_row((1, "s".into(), vec![0; 15], "n".into(), "r".into(), false, 0))
                .is_err()
        );
    }
}
