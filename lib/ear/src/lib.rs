//! EAR attestation results: claims, trust vectors, and ES256 JWT signing.
