//! OIDC bearer tokens: discovery, the JWKS cache and token verification.
//!
//! The issuer's keys are found through `{issuer}/.well-known/openid-configuration`
//! → `jwks_uri`, and kept. They are fetched again:
//! - when a token names a `kid` the cache does not hold (the issuer rotated
//!   its keys), at most once per `min_refresh_interval`, so a flood of
//!   tokens with made-up `kid`s costs the issuer one request per interval;
//! - in the background once they are older than `max_key_age`, so a key
//!   the issuer withdrew stops being trusted.
//!
//! A failed fetch keeps the keys already held: a token signed by one of
//! them still verifies while the issuer is unreachable. A token whose key
//! is not held when the issuer cannot be reached is answered 503 (retry),
//! not 401, since the token may well be good.
//!
//! Only the token header's `alg` and `kid` are used to pick a key: `jku`,
//! `jwk`, `x5u` and `x5c` are ignored, so a token cannot bring its own key.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{AlgorithmFamily, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::jwks::KeySet;
use crate::{AuthError, Denied, Principal, Role};

/// Where to find the issuer and what its tokens must say.
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The issuer URL, exactly as tokens carry it in `iss` (for Keycloak,
    /// `https://host/realms/<realm>`).
    pub issuer: String,
    /// A value the token's `aud` must contain.
    pub audience: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// Time limit on each request to the issuer.
    pub http_timeout: Duration,
    /// Least time between two fetches of the keys.
    pub min_refresh_interval: Duration,
    /// Keys older than this are fetched again (in the background).
    pub max_key_age: Duration,
}

impl OidcConfig {
    /// Defaults for `issuer` and `audience`: 30 s leeway, 5 s HTTP timeout,
    /// at most one fetch per 10 s, keys re-read every 10 min.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        OidcConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Duration::from_secs(30),
            http_timeout: Duration::from_secs(5),
            min_refresh_interval: Duration::from_secs(10),
            max_key_age: Duration::from_secs(600),
        }
    }
}

/// Largest discovery document or JWKS read.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The keys held, and when they were fetched.
struct Keys {
    set: KeySet,
    fetched: Option<Instant>,
}

#[derive(Default)]
struct RefreshState {
    last_attempt: Option<Instant>,
    /// Why the last fetch failed; `None` after a success.
    last_error: Option<String>,
}

/// Verifies bearer tokens from one issuer.
pub struct OidcAuth {
    config: OidcConfig,
    discovery_url: reqwest::Url,
    client: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    /// Held while fetching: one fetch at a time.
    refresh: tokio::sync::Mutex<RefreshState>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

fn http_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("the scheme is {}", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("there is no host".to_owned());
    }
    Ok(url)
}

/// What a verification failure tells the client. Our own words: nothing
/// from the token is echoed back.
fn token_error(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)",
        ErrorKind::InvalidIssuer => "the token is from another issuer",
        ErrorKind::InvalidAudience => "the token is not meant for this audience",
        ErrorKind::InvalidSignature => "the token's signature does not verify",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match the issuer's key",
        ErrorKind::MissingRequiredClaim(claim) => {
            return format!("the token has no {claim} claim");
        }
        ErrorKind::InvalidClaimFormat(claim) => {
            return format!("the token's {claim} claim is malformed");
        }
        _ => "the token is malformed",
    }
    .to_owned()
}

impl OidcAuth {
    /// Checks `config` and prepares the HTTP client. Fetches nothing.
    pub fn new(config: OidcConfig) -> Result<Self, AuthError> {
        // Both jsonwebtoken backends may end up enabled in one build (by
        // other crates); pick ours explicitly rather than panic on first use.
        let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
        let issuer_error = |reason: String| AuthError::Issuer {
            issuer: config.issuer.clone(),
            reason,
        };
        let issuer = http_url(&config.issuer).map_err(issuer_error)?;
        if config.audience.is_empty() {
            return Err(AuthError::EmptyAudience);
        }
        // OpenID Connect Discovery §4: a trailing slash is removed before
        // the well-known path is appended.
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.as_str().trim_end_matches('/')
        );
        let discovery_url = http_url(&discovery).map_err(issuer_error)?;
        let client = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .connect_timeout(config.http_timeout)
            // The issuer's URLs are configured or discovered; a redirect
            // could only lead somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthError::HttpClient(e.to_string()))?;
        Ok(OidcAuth {
            config,
            discovery_url,
            client,
            keys: RwLock::new(Arc::new(Keys {
                set: KeySet::default(),
                fetched: None,
            })),
            refresh: tokio::sync::Mutex::new(RefreshState::default()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    fn current(&self) -> Arc<Keys> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    async fn get(&self, url: &reqwest::Url) -> Result<Vec<u8>, AuthError> {
        let failed = |reason: String| AuthError::Fetch {
            url: url.to_string(),
            reason,
        };
        let mut response = self
            .client
            .get(url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("status {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            if body.len().saturating_add(chunk.len()) > MAX_DOCUMENT_BYTES {
                return Err(failed(format!("larger than {MAX_DOCUMENT_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Fetches the discovery document, then the JWKS it points to.
    async fn fetch(&self) -> Result<KeySet, AuthError> {
        let body = self.get(&self.discovery_url).await?;
        let unusable = |reason: String| AuthError::Discovery {
            url: self.discovery_url.to_string(),
            reason,
        };
        let discovery: Discovery =
            serde_json::from_slice(&body).map_err(|e| unusable(e.to_string()))?;
        // OpenID Connect Discovery §4.3: the document must name the issuer
        // it was fetched for, exactly.
        if discovery.issuer != self.config.issuer {
            return Err(unusable(format!(
                "it names the issuer {:?}, not {:?}",
                discovery.issuer, self.config.issuer
            )));
        }
        let jwks_uri = http_url(&discovery.jwks_uri).map_err(&unusable)?;
        if self.discovery_url.scheme() == "https" && jwks_uri.scheme() != "https" {
            return Err(unusable("jwks_uri is not https".to_owned()));
        }
        let set = KeySet::parse(&self.get(&jwks_uri).await?)?;
        if set.is_empty() {
            tracing::warn!(%jwks_uri, "the issuer's JWKS holds no key that can verify tokens");
        }
        Ok(set)
    }

    /// Fetches the issuer's keys now, unless a fetch ran within
    /// `min_refresh_interval`. On failure the keys held are kept; the error
    /// is logged and returned.
    pub async fn refresh(&self) -> Result<(), AuthError> {
        let mut state = self.refresh.lock().await;
        self.refresh_locked(&mut state).await
    }

    async fn refresh_locked(&self, state: &mut RefreshState) -> Result<(), AuthError> {
        if let Some(last) = state.last_attempt
            && last.elapsed() < self.config.min_refresh_interval
        {
            return match &state.last_error {
                None => Ok(()),
                Some(reason) => Err(AuthError::Fetch {
                    url: self.discovery_url.to_string(),
                    reason: reason.clone(),
                }),
            };
        }
        state.last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(set) => {
                tracing::debug!(keys = set.keys().len(), issuer = %self.config.issuer, "fetched the OIDC issuer's keys");
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(Keys {
                    set,
                    fetched: Some(Instant::now()),
                });
                state.last_error = None;
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, issuer = %self.config.issuer, "cannot fetch the OIDC issuer's keys; keeping the ones held");
                state.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Starts a background refresh when the keys are old, unless one runs.
    fn refresh_if_stale(self: &Arc<Self>, keys: &Keys) {
        let stale = keys
            .fetched
            .is_none_or(|at| at.elapsed() >= self.config.max_key_age);
        if !stale {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Ok(mut state) = this.refresh.try_lock() {
                let _ = this.refresh_locked(&mut state).await;
            }
        });
    }

    /// The keys holding the token's `kid`, fetching them again if needed.
    async fn keys_for(self: &Arc<Self>, kid: Option<&str>) -> Result<Arc<Keys>, Denied> {
        let keys = self.current();
        if keys.set.find(kid).is_some() {
            self.refresh_if_stale(&keys);
            return Ok(keys);
        }
        // Unknown kid (or nothing fetched yet): fetch, rate-limited. Callers
        // that queue here behind a fetch find its result.
        let mut state = self.refresh.lock().await;
        let keys = self.current();
        if keys.set.find(kid).is_some() {
            return Ok(keys);
        }
        let fetched = self.refresh_locked(&mut state).await;
        let keys = self.current();
        if keys.set.find(kid).is_some() {
            return Ok(keys);
        }
        match fetched {
            Err(e) => Err(Denied::Unavailable(e.to_string())),
            Ok(()) => Err(Denied::InvalidToken(
                "the token is signed with a key the issuer does not publish".to_owned(),
            )),
        }
    }

    /// Verifies `token` and returns its principal, with the realm roles
    /// Vouch knows.
    pub async fn authenticate(self: &Arc<Self>, token: &str) -> Result<Principal, Denied> {
        let header = token_header(token)?;
        let keys = self.keys_for(header.kid.as_deref()).await?;
        verify_with_header(&self.config, &keys.set, &header, token)
    }
}

/// The token's header, refusing `none`, unknown and HMAC algorithms
/// before any key is looked up.
fn token_header(token: &str) -> Result<jsonwebtoken::Header, Denied> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| {
        // `alg: none` and unknown algorithms fail here, as a header that
        // does not parse.
        Denied::InvalidToken(if names_an_algorithm(token) {
            "the token's algorithm is not accepted".to_owned()
        } else {
            "the token is not a signed JWT".to_owned()
        })
    })?;
    if header.alg.family() == AlgorithmFamily::Hmac {
        return Err(Denied::InvalidToken(
            "the token's algorithm is not accepted".to_owned(),
        ));
    }
    Ok(header)
}

/// Verifies `token` against `keys` as `config` says (signature, `alg`
/// against the key, `exp`, `nbf`, `iss`, `aud`) and returns its principal.
/// No I/O: [`OidcAuth::authenticate`] is this plus fetching the keys.
pub fn verify_token(config: &OidcConfig, keys: &KeySet, token: &str) -> Result<Principal, Denied> {
    verify_with_header(config, keys, &token_header(token)?, token)
}

fn verify_with_header(
    config: &OidcConfig,
    keys: &KeySet,
    header: &jsonwebtoken::Header,
    token: &str,
) -> Result<Principal, Denied> {
    let key = keys.find(header.kid.as_deref()).ok_or_else(|| {
        Denied::InvalidToken(
            "the token is signed with a key the issuer does not publish".to_owned(),
        )
    })?;
    if !key.algorithms().contains(&header.alg) {
        return Err(Denied::InvalidToken(
            "the token's algorithm does not match the issuer's key".to_owned(),
        ));
    }
    let mut validation = Validation::new(header.alg);
    validation.leeway = config.leeway.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = true;
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation.set_issuer(&[&config.issuer]);
    validation.set_audience(&[&config.audience]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, key.decoding_key(), &validation)
        .map_err(|e| Denied::InvalidToken(token_error(e.kind())))?;
    let claims = data.claims;
    // `iss` is one string (RFC 7519 §4.1.1); the library would also take a
    // list that contains ours.
    if claims.get("iss").and_then(Value::as_str) != Some(config.issuer.as_str()) {
        return Err(Denied::InvalidToken(token_error(&ErrorKind::InvalidIssuer)));
    }
    Ok(principal(&claims))
}

/// Whether the token's header is JSON with a string `alg`: then a header
/// the library refused names an algorithm it does not know (`none`).
fn names_an_algorithm(token: &str) -> bool {
    use base64::Engine as _;
    token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .ok()
        })
        .and_then(|h| serde_json::from_slice::<Value>(&h).ok())
        .is_some_and(|h| h.get("alg").is_some_and(Value::is_string))
}

/// The principal of verified claims: the name from `preferred_username`
/// (Keycloak) or `sub`, the roles from `realm_access.roles`.
fn principal(claims: &Map<String, Value>) -> Principal {
    let name = ["preferred_username", "sub"]
        .iter()
        .find_map(|claim| claims.get(*claim).and_then(Value::as_str))
        .unwrap_or("unnamed")
        .to_owned();
    let mut roles: Vec<Role> = claims
        .get("realm_access")
        .and_then(|r| r.get("roles"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|r| r.parse().ok())
        .collect();
    roles.sort_unstable();
    roles.dedup();
    Principal { name, roles }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_must_be_http_urls() {
        for bad in ["", "keycloak:8080/realms/x", "ftp://h/x", "http://"] {
            assert!(
                matches!(
                    OidcAuth::new(OidcConfig::new(bad, "vouch")),
                    Err(AuthError::Issuer { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            OidcAuth::new(OidcConfig::new("https://id.example/realms/v", "")),
            Err(AuthError::EmptyAudience)
        ));
        let auth = OidcAuth::new(OidcConfig::new("https://id.example/realms/v/", "vouch")).unwrap();
        assert_eq!(
            auth.discovery_url.as_str(),
            "https://id.example/realms/v/.well-known/openid-configuration"
        );
    }

    #[test]
    fn realm_roles_make_the_principal() {
        let claims = serde_json::json!({
            "sub": "0b7e",
            "preferred_username": "veraison-provisioner",
            "realm_access": {"roles": ["offline_access", "provisioner", 7, "provisioner"]},
            "resource_access": {"account": {"roles": ["manager"]}}
        });
        let p = principal(claims.as_object().unwrap());
        assert_eq!(p.name, "veraison-provisioner");
        assert_eq!(p.roles, [Role::Provisioner]);
        let claims = serde_json::json!({"sub": "0b7e", "realm_access": {"roles": "manager"}});
        let p = principal(claims.as_object().unwrap());
        assert_eq!(p.name, "0b7e");
        assert!(p.roles.is_empty());
    }
}
