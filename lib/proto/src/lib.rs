//! gRPC protocol between the Vouch front ends and the trust service.
//!
//! The `.proto` files under `proto/` are the single source; `build.rs`
//! compiles them with protox, so no system `protoc` is needed.

/// Version 1 of the trust protocol (`vouch.trust.v1`).
pub mod trust {
    #![allow(missing_docs, unreachable_pub, clippy::all)]
    tonic::include_proto!("vouch.trust.v1");
}
