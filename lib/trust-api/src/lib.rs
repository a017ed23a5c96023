//! The Trust interface the front ends call, its domain types, and its gRPC client.
