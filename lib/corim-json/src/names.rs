//! The names the templates use for CoRIM and CoMID codes, one table each,
//! shared by reading and writing so the two directions cannot disagree.

/// CoRIM entity roles (`corim/role.go`).
pub(crate) const CORIM_ROLES: &[(&str, u64)] = &[("manifestCreator", 1), ("manifestSigner", 2)];

/// CoMID entity roles (`comid/role.go`).
pub(crate) const COMID_ROLES: &[(&str, u64)] =
    &[("tagCreator", 0), ("creator", 1), ("maintainer", 2)];

/// Linked-tag relations (`comid/rel.go`).
pub(crate) const RELS: &[(&str, u64)] = &[("supplements", 0), ("replaces", 1)];

/// IANA named-information hash algorithms: name, code, digest length.
pub(crate) const DIGEST_ALGS: &[(&str, i64, usize)] = &[
    ("sha-256", 1, 32),
    ("sha-256-128", 2, 16),
    ("sha-256-120", 3, 15),
    ("sha-256-96", 4, 12),
    ("sha-256-64", 5, 8),
    ("sha-256-32", 6, 4),
    ("sha-384", 7, 48),
    ("sha-512", 8, 64),
    ("sha3-224", 9, 28),
    ("sha3-256", 10, 32),
    ("sha3-384", 11, 48),
    ("sha3-512", 12, 64),
];

/// Measurement flags (`comid/flagsmap.go`).
pub(crate) const FLAGS: &[(&str, i64)] = &[
    ("is-configured", 0),
    ("is-secure", 1),
    ("is-recovery", 2),
    ("is-debug", 3),
    ("is-replay-protected", 4),
    ("is-integrity-protected", 5),
    ("is-runtime-meas", 6),
    ("is-immutable", 7),
    ("is-tcb", 8),
    ("is-confidentiality-protected", 9),
];

/// CoSWID version schemes (`swid/versionscheme.go`).
pub(crate) const VERSION_SCHEMES: &[(&str, i64)] = &[
    ("multipartnumeric", 1),
    ("multipartnumeric+suffix", 2),
    ("alphanumeric", 3),
    ("decimal", 4),
    ("semver", 16384),
];

/// The code of `name` in `table`.
pub(crate) fn code<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// The name of `code` in `table`.
pub(crate) fn name<T: PartialEq>(table: &[(&'static str, T)], code: &T) -> Option<&'static str> {
    table.iter().find(|(_, c)| c == code).map(|(n, _)| *n)
}

/// The names of `table`, for "expected one of" messages.
pub(crate) fn list<T>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(n, _)| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
