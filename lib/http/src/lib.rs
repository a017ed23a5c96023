//! HTTP pieces shared by the REST front ends: problem+json, media types, health, Tower layers.
