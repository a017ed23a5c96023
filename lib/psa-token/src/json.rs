//! The JSON view of the claims Veraison puts in attestation results.
//!
//! It reproduces Go's `encoding/json` output for psatoken's `P1Claims` /
//! `P2Claims`: member names and order from the struct tags, `omitempty`
//! where the tags say so, and byte strings as standard base64 with padding.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::{Claims, Profile, SwComponent};

fn b64(bytes: &[u8]) -> Value {
    Value::String(STANDARD.encode(bytes))
}

fn text(s: &str) -> Value {
    Value::String(s.to_owned())
}

impl Claims {
    /// The claims as Veraison's `ear.veraison.annotated-evidence` shows them.
    pub fn annotated_evidence(&self) -> Value {
        let mut m = Map::new();
        match self.profile {
            Profile::P2 => {
                m.insert("eat-profile".into(), text(self.profile_str()));
                self.common_head(&mut m);
                if let Some(seed) = &self.boot_seed {
                    m.insert("psa-boot-seed".into(), b64(seed));
                }
                if let Some(cr) = &self.certification_reference {
                    m.insert("psa-certification-reference".into(), text(cr));
                }
                m.insert("psa-software-components".into(), self.sw_json());
            }
            Profile::P1 => {
                // `Profile *string` has no omitempty: an absent claim is null.
                m.insert(
                    "psa-profile".into(),
                    self.profile_name.as_deref().map_or(Value::Null, text),
                );
                self.common_head(&mut m);
                m.insert(
                    "psa-boot-seed".into(),
                    self.boot_seed.as_deref().map_or(Value::Null, b64),
                );
                if let Some(cr) = &self.certification_reference {
                    m.insert("psa-hwver".into(), text(cr));
                }
                // P1Claims.MarshalJSON drops an empty component list.
                if !self.sw_components.is_empty() {
                    m.insert("psa-software-components".into(), self.sw_json());
                }
                if let Some(n) = self.no_sw_measurements {
                    m.insert("psa-no-software-measurements".into(), Value::from(n));
                }
            }
        }
        m.insert("psa-nonce".into(), b64(&self.nonce));
        m.insert("psa-instance-id".into(), b64(&self.instance_id));
        if let Some(vsi) = &self.vsi {
            m.insert("psa-verification-service-indicator".into(), text(vsi));
        }
        Value::Object(m)
    }

    fn common_head(&self, m: &mut Map<String, Value>) {
        m.insert("psa-client-id".into(), Value::from(self.client_id));
        m.insert(
            "psa-security-lifecycle".into(),
            Value::from(self.security_lifecycle),
        );
        m.insert("psa-implementation-id".into(), b64(&self.implementation_id));
    }

    fn sw_json(&self) -> Value {
        Value::Array(
            self.sw_components
                .iter()
                .map(SwComponent::to_json)
                .collect(),
        )
    }
}

impl SwComponent {
    /// The component as psatoken's `SwComponent` marshals to JSON.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(t) = &self.measurement_type {
            m.insert("measurement-type".into(), text(t));
        }
        m.insert("measurement-value".into(), b64(&self.measurement_value));
        if let Some(v) = &self.version {
            m.insert("version".into(), text(v));
        }
        m.insert("signer-id".into(), b64(&self.signer_id));
        if let Some(d) = &self.measurement_desc {
            m.insert("measurement-description".into(), text(d));
        }
        Value::Object(m)
    }
}
