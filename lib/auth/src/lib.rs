//! Authentication and role checks for the Vouch REST APIs.
//!
//! Veraison guards provisioning with the role `provisioner` and management
//! with the role `manager`; verification, the `.well-known` documents and
//! health stay open. This crate does the same, as one Tower layer in front
//! of the guarded routes ([`require_role`]), the way cross-cutting concerns
//! are layered in linkerd2-proxy:
//!
//! - [`Authenticator::None`]: everything passes. The default, so the
//!   embedded all-in-one server works on loopback without set-up; it must
//!   never be exposed.
//! - [`Authenticator::basic`]: `Authorization: Basic`, checked against
//!   argon2 password hashes (PHC strings) from the configuration, each user
//!   with its roles.
//! - [`Authenticator::oidc`]: `Authorization: Bearer` JWTs from an OpenID
//!   Connect issuer (Keycloak in Veraison's deployments), verified against
//!   the issuer's JWKS (found through its discovery document, cached, and
//!   fetched again when a token names an unknown key), with `iss`, `aud`,
//!   `exp` and `nbf` checked. Roles are the realm roles,
//!   `realm_access.roles`, as Veraison's Keycloak realm has them.
//!
//! Refusals are problem+json like every other error: 401 with a
//! `WWW-Authenticate` challenge when the caller is not authenticated, 403
//! when it lacks the role, and 503 with `Retry-After` when a token cannot
//! be checked because the issuer's keys cannot be fetched.

mod basic;
mod credentials;
mod error;
pub mod jwks;
mod layer;
mod oidc;
#[cfg(feature = "testing")]
pub mod testing;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use http::HeaderMap;

pub use basic::{BasicAuth, User, hash_password};
pub use credentials::Credentials;
pub use error::{AuthError, Denied};
pub use layer::{RequireRole, RequireRoleLayer, require_role};
pub use oidc::{OidcAuth, OidcConfig, verify_token};

/// The realm `WWW-Authenticate` challenges name.
pub const REALM: &str = "vouch";

/// A role an API requires, as Veraison names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// May submit endorsements (`/endorsement-provisioning/v1/*`).
    Provisioner,
    /// May manage policies (`/management/v1/*`).
    Manager,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 2] = [Role::Provisioner, Role::Manager];

    /// The role's name in tokens and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Provisioner => "provisioner",
            Role::Manager => "manager",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| AuthError::UnknownRole(s.to_owned()))
    }
}

/// Who a request was authenticated as. Added to the request's extensions
/// by [`RequireRole`], for handlers and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user name (basic), or the token's `preferred_username`, else
    /// its `sub` (OIDC).
    pub name: String,
    /// The Vouch roles the principal holds (other roles are dropped).
    pub roles: Vec<Role>,
}

impl Principal {
    /// Whether the principal holds `role`.
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// How a service authenticates callers. Cheap to clone.
#[derive(Clone, Default)]
pub enum Authenticator {
    /// No authentication: every request passes. For loopback only.
    #[default]
    None,
    /// HTTP basic authentication against argon2 password hashes.
    Basic(Arc<BasicAuth>),
    /// OIDC bearer tokens.
    Oidc(Arc<OidcAuth>),
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Authenticator::None => f.write_str("Authenticator::None"),
            Authenticator::Basic(basic) => f
                .debug_struct("Authenticator::Basic")
                .field("users", &basic.user_names())
                .finish(),
            Authenticator::Oidc(oidc) => f
                .debug_struct("Authenticator::Oidc")
                .field("issuer", &oidc.config().issuer)
                .field("audience", &oidc.config().audience)
                .finish(),
        }
    }
}

impl Authenticator {
    /// Basic authentication for `users`. Fails on a hash that is not an
    /// argon2 PHC string, an unknown role, a duplicate or empty name.
    pub fn basic(users: Vec<User>) -> Result<Self, AuthError> {
        Ok(Authenticator::Basic(Arc::new(BasicAuth::new(users)?)))
    }

    /// OIDC bearer tokens from `config.issuer`. Nothing is fetched yet: the
    /// issuer's keys are fetched on the first token (or by
    /// [`OidcAuth::refresh`]), so a service starts while its issuer is down.
    pub fn oidc(config: OidcConfig) -> Result<Self, AuthError> {
        Ok(Authenticator::Oidc(Arc::new(OidcAuth::new(config)?)))
    }

    /// `none`, `basic` or `oidc`.
    pub fn mode(&self) -> &'static str {
        match self {
            Authenticator::None => "none",
            Authenticator::Basic(_) => "basic",
            Authenticator::Oidc(_) => "oidc",
        }
    }

    /// Whether requests need credentials at all.
    pub fn is_enabled(&self) -> bool {
        !matches!(self, Authenticator::None)
    }

    /// Authenticates the request whose headers are `headers` and checks
    /// that it holds `role`. With [`Authenticator::None`], everyone passes
    /// as an anonymous principal holding every role.
    pub async fn authorize(&self, headers: &HeaderMap, role: Role) -> Result<Principal, Denied> {
        let principal = match self {
            Authenticator::None => {
                return Ok(Principal {
                    name: "anonymous".to_owned(),
                    roles: Role::ALL.to_vec(),
                });
            }
            Authenticator::Basic(basic) => match Credentials::from_headers(headers)? {
                Some(Credentials::Basic { user, password }) => {
                    basic.authenticate(&user, &password).await?
                }
                Some(Credentials::Bearer(_)) => {
                    return Err(Denied::Malformed(
                        "this API takes Basic authorization, not a Bearer token".to_owned(),
                    ));
                }
                None => return Err(Denied::Missing),
            },
            Authenticator::Oidc(oidc) => match Credentials::from_headers(headers)? {
                Some(Credentials::Bearer(token)) => oidc.authenticate(&token).await?,
                Some(Credentials::Basic { .. }) => {
                    return Err(Denied::Malformed(
                        "this API takes a Bearer token, not Basic authorization".to_owned(),
                    ));
                }
                None => return Err(Denied::Missing),
            },
        };
        if principal.has(role) {
            Ok(principal)
        } else {
            Err(Denied::MissingRole {
                name: principal.name,
                role,
            })
        }
    }

    /// The response for a refusal: 401 with the challenge of this
    /// authenticator's scheme, 403, or 503.
    pub fn refusal(&self, denied: &Denied) -> vouch_http::Problem {
        denied.problem(match self {
            Authenticator::Oidc(_) => Scheme::Bearer,
            Authenticator::None | Authenticator::Basic(_) => Scheme::Basic,
        })
    }
}

/// The authentication scheme a challenge names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Basic` (RFC 7617).
    Basic,
    /// `Bearer` (RFC 6750).
    Bearer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_unknown_ones_are_refused() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!(matches!(
            "provisoner".parse::<Role>(),
            Err(AuthError::UnknownRole(name)) if name == "provisoner"
        ));
    }

    #[tokio::test]
    async fn none_lets_everyone_through() {
        let principal = Authenticator::None
            .authorize(&HeaderMap::new(), Role::Manager)
            .await
            .unwrap();
        assert!(principal.has(Role::Manager) && principal.has(Role::Provisioner));
        assert!(!Authenticator::None.is_enabled());
    }
}
