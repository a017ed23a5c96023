//! Arm CCA attestation tokens: the platform and realm token collection (tag 399 and CMW tag 907), claims, signatures and the RAK binding.
//!
//! A CCA token (evidence media type `application/eat-collection;
//! profile="http://arm.com/CCA-SSD/1.0.0"`) is a collection of two
//! COSE_Sign1 tokens: the platform token, signed by the platform attestation
//! key (CPAK) that a trust anchor endorses, and the realm token, signed by
//! the realm attestation key (RAK) that the realm token itself carries. The
//! platform token's challenge is the hash of that RAK claim, which binds the
//! realm token to the platform. This crate decodes both framings Veraison
//! accepts, validates the claims as Veraison's ccatoken does, and exposes the
//! verification steps separately, so that a scheme can report which failed;
//! it reaches no verdict.
//!
//! ```no_run
//! # fn run(bytes: &[u8], cpak: &vouch_crypto::VerifyingKey, nonce: &[u8]) -> Result<(), vouch_cca_token::CcaError> {
//! use vouch_cca_token::{CcaToken, realm_challenge_for_nonce};
//!
//! let token = CcaToken::decode(bytes)?;          // collection + claims + validation
//! token.verify_platform(cpak)?;                  // CPAK signature (ES256/384/512)
//! token.verify_realm()?;                         // RAK signature
//! token.verify_binding()?;                       // platform challenge == H(RAK)
//! let fresh = token.realm_challenge() == &realm_challenge_for_nonce(nonce)?;
//! let platform_json = token.platform_claims().annotated_evidence();
//! # let _ = (fresh, platform_json); Ok(()) }
//! ```
//!
//! Parsec CCA key attestation ([`ParsecCcaEvidence`]) wraps a CCA token with
//! a key attestation token bound through the realm challenge. The [`mint`]
//! module makes tokens and evidence for tests and demo devices.
//!
//! COSE envelopes are read by `vouch-cose`; everything else is walked with
//! bounded CBOR readers: definite lengths only, at most 32 levels of nesting,
//! duplicate claim keys refused, and no allocation sized by a length read
//! from the input.

mod cbor;
mod error;
mod json;
mod measurement;
pub mod mint;
mod parsec;
mod platform;
mod realm;
mod token;

pub use error::CcaError;
pub use json::{PLATFORM_TOKEN_MEMBER, REALM_TOKEN_MEMBER, claims_from_json};
pub use measurement::Measurement;
pub use parsec::{KAT_NONCE_MAX, KAT_NONCE_MIN, ParsecCcaEvidence};
pub use platform::{
    IMPLEMENTATION_ID_LEN, INSTANCE_ID_LEN, LifecycleState, PLATFORM_HASH_ALGS, PlatformClaims,
    PlatformProfile, SwComponent,
};
pub use realm::{
    PERSONALIZATION_VALUE_LEN, RAW_RAK_LEN, REALM_CHALLENGE_LEN, REALM_PROFILE, REM_COUNT, RakForm,
    RealmClaims, RealmPublicKey,
};
pub use token::{CcaToken, CmwType, Framing, realm_challenge_for_nonce};

/// CBOR tags and integer keys of the CCA token and the Parsec KAT.
pub mod keys {
    /// Tag of the EAT collection framing.
    pub const TAG_EAT_COLLECTION: u64 = 399;
    /// Tag of the CMW collection framing.
    pub const TAG_CMW_COLLECTION: u64 = 907;
    /// Tag of the Parsec key attestation token (UCCS-like).
    pub const TAG_KAT: u64 = 601;
    /// Collection key of the platform token.
    pub const PLATFORM_TOKEN: i64 = 44234;
    /// Collection key of the realm token.
    pub const REALM_TOKEN: i64 = 44241;

    /// Platform claim keys.
    pub mod platform {
        /// `profile`.
        pub const PROFILE: i64 = 265;
        /// `challenge`.
        pub const CHALLENGE: i64 = 10;
        /// `implementation-id`.
        pub const IMPLEMENTATION_ID: i64 = 2396;
        /// `instance-id` (`ueid`).
        pub const INSTANCE_ID: i64 = 256;
        /// `config`.
        pub const CONFIG: i64 = 2401;
        /// `lifecycle`.
        pub const LIFECYCLE: i64 = 2395;
        /// `sw-components`.
        pub const SW_COMPONENTS: i64 = 2399;
        /// `verification-service`.
        pub const VERIFICATION_SERVICE: i64 = 2400;
        /// `hash-algo-id`.
        pub const HASH_ALGO_ID: i64 = 2402;
    }

    /// Software component keys.
    pub mod sw {
        /// `measurement-type`.
        pub const MEASUREMENT_TYPE: i64 = 1;
        /// `measurement-value`.
        pub const MEASUREMENT_VALUE: i64 = 2;
        /// `version`.
        pub const VERSION: i64 = 4;
        /// `signer-id`.
        pub const SIGNER_ID: i64 = 5;
        /// `hash-algo-id`.
        pub const HASH_ALGO_ID: i64 = 6;
    }

    /// Realm claim keys.
    pub mod realm {
        /// `profile`.
        pub const PROFILE: i64 = 265;
        /// `challenge`.
        pub const CHALLENGE: i64 = 10;
        /// `personalization-value`.
        pub const PERSONALIZATION_VALUE: i64 = 44235;
        /// `hash-algo-id`.
        pub const HASH_ALGO_ID: i64 = 44236;
        /// `public-key` (the RAK).
        pub const PUBLIC_KEY: i64 = 44237;
        /// `initial-measurement`.
        pub const INITIAL_MEASUREMENT: i64 = 44238;
        /// `extensible-measurements`.
        pub const EXTENSIBLE_MEASUREMENTS: i64 = 44239;
        /// `public-key-hash-algo-id`.
        pub const PUBLIC_KEY_HASH_ALGO_ID: i64 = 44240;
    }

    /// Parsec KAT keys.
    pub mod kat {
        /// `nonce`.
        pub const NONCE: i64 = 10;
        /// `cnf`.
        pub const CNF: i64 = 8;
        /// `COSE_Key` inside `cnf`.
        pub const CNF_COSE_KEY: i64 = 1;
    }
}
