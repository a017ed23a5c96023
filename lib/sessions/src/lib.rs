//! Challenge-response session stores: in-process with TTL, and memcached.
