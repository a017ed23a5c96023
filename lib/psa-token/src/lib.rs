//! PSA attestation tokens (profiles 1 and 2): COSE_Sign1 decoding, claim validation, signature check.
