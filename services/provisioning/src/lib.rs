//! Provisioning service: the endorsement submission REST API.
