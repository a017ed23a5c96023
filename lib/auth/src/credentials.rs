//! The `Authorization` header.

use std::fmt;

use base64::Engine as _;
use http::{HeaderMap, header};

use crate::Denied;

/// Longest `Authorization` value looked at. Keycloak access tokens are a
/// few KiB; anything this long is not a credential.
const MAX_AUTHORIZATION_LEN: usize = 16 * 1024;

/// Credentials from an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// `Basic base64(user:password)` (RFC 7617).
    Basic {
        /// The user name (no colon).
        user: String,
        /// The password, as sent.
        password: Vec<u8>,
    },
    /// `Bearer <token>` (RFC 6750).
    Bearer(String),
}

// Passwords and tokens stay out of logs.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"[redacted]")
                .finish(),
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
        }
    }
}

impl Credentials {
    /// The credentials of a request: `None` without an `Authorization`
    /// header, an error when there are several or one is malformed.
    pub fn from_headers(headers: &HeaderMap) -> Result<Option<Self>, Denied> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(Denied::Malformed(
                "more than one Authorization header".to_owned(),
            ));
        }
        Self::parse(value.as_bytes()).map(Some)
    }

    /// Parses an `Authorization` header value. The scheme is matched
    /// without regard to case, as RFC 9110 says.
    pub fn parse(value: &[u8]) -> Result<Self, Denied> {
        if value.len() > MAX_AUTHORIZATION_LEN {
            return Err(Denied::Malformed(
                "the Authorization header is too long".to_owned(),
            ));
        }
        let value = std::str::from_utf8(value)
            .map_err(|_| Denied::Malformed("the Authorization header is not text".to_owned()))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            Self::basic(rest)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Self::bearer(rest)
        } else {
            Err(Denied::Malformed(
                "the Authorization scheme is neither Basic nor Bearer".to_owned(),
            ))
        }
    }

    fn basic(encoded: &str) -> Result<Self, Denied> {
        let malformed =
            || Denied::Malformed("Basic credentials are not base64(user:password)".to_owned());
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| malformed())?;
        let colon = decoded
            .iter()
            .position(|b| *b == b':')
            .ok_or_else(malformed)?;
        let (user, password) = decoded.split_at(colon);
        let user = String::from_utf8(user.to_vec()).map_err(|_| malformed())?;
        // `split_at` keeps the colon with the password.
        let password = password.get(1..).unwrap_or_default().to_vec();
        if user.is_empty() {
            return Err(malformed());
        }
        Ok(Credentials::Basic { user, password })
    }

    fn bearer(token: &str) -> Result<Self, Denied> {
        // RFC 6750 §2.1 b64token: the token68 alphabet. JWTs fit in it.
        let token68 = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
        if token.is_empty() || !token.chars().all(token68) {
            return Err(Denied::Malformed(
                "the Bearer token is malformed".to_owned(),
            ));
        }
        Ok(Credentials::Bearer(token.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn basic(user_password: &str) -> Vec<u8> {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(user_password)
        )
        .into_bytes()
    }

    #[test]
    fn basic_credentials_split_at_the_first_colon() {
        assert_eq!(
            Credentials::parse(&basic("alice:pa:ss")).unwrap(),
            Credentials::Basic {
                user: "alice".into(),
                password: b"pa:ss".to_vec()
            }
        );
        assert_eq!(
            Credentials::parse(&basic("bob:")).unwrap(),
            Credentials::Basic {
                user: "bob".into(),
                password: Vec::new()
            }
        );
        for bad in [
            basic("nocolon"),
            basic(":pw"),
            b"Basic !!!".to_vec(),
            b"Basic".to_vec(),
        ] {
            assert!(matches!(
                Credentials::parse(&bad),
                Err(Denied::Malformed(_))
            ));
        }
    }

    #[test]
    fn bearer_tokens_and_scheme_case() {
        assert_eq!(
            Credentials::parse(b"bearer abc.def.ghi").unwrap(),
            Credentials::Bearer("abc.def.ghi".into())
        );
        for bad in [
            &b"Bearer"[..],
            b"Bearer a b",
            b"Bearer a\"b",
            b"Digest x",
            b"",
            b"\xff",
        ] {
            assert!(
                matches!(Credentials::parse(bad), Err(Denied::Malformed(_))),
                "{bad:?}"
            );
        }
        assert!(Credentials::parse(&vec![b'a'; MAX_AUTHORIZATION_LEN + 1]).is_err());
    }

    #[test]
    fn headers_without_credentials_or_with_two() {
        let mut headers = HeaderMap::new();
        assert_eq!(Credentials::from_headers(&headers).unwrap(), None);
        headers.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        assert!(Credentials::from_headers(&headers).unwrap().is_some());
        headers.append(header::AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert!(Credentials::from_headers(&headers).is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let text = format!("{:?}", Credentials::parse(&basic("alice:s3cret")).unwrap());
        assert!(!text.contains("s3cret"), "{text}");
        let text = format!("{:?}", Credentials::Bearer("tok3n".into()));
        assert!(!text.contains("tok3n"), "{text}");
    }
}
