//! gRPC protocol between the Vouch front ends and the trust service.
