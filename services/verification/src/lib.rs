//! Verification service: the challenge-response REST API.
