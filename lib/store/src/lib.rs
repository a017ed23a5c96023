//! Endorsement and trust-anchor store: trait, SQL backends (SQLite, PostgreSQL), in-memory backend.
