//! Syntax checks for the text a CMW carries: a record's Content-Type and a
//! collection's `__cmwc_t`.

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Splits a leading token off `s`; `None` when `s` does not start with one.
fn token(s: &str) -> Option<(&str, &str)> {
    let end = s.bytes().position(|b| !is_tchar(b)).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some(s.split_at(end))
}

/// Splits a leading quoted-string (RFC 9110 §5.6.4) off `s`.
fn quoted_string(s: &str) -> Option<&str> {
    let mut bytes = s.bytes().enumerate();
    if bytes.next().map(|(_, b)| b) != Some(b'"') {
        return None;
    }
    while let Some((i, b)) = bytes.next() {
        match b {
            b'"' => return s.get(i + 1..),
            b'\\' => {
                // quoted-pair: HTAB / SP / VCHAR / obs-text
                let (_, escaped) = bytes.next()?;
                if escaped != b'\t' && !(0x20..=0x7e).contains(&escaped) && escaped < 0x80 {
                    return None;
                }
            }
            b'\t' | 0x20..=0x7e | 0x80..=0xff => {}
            _ => return None,
        }
    }
    None
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Checks `media_type` against the RFC 9110 `Content-Type` grammar the
/// draft's `media-type` refers to: `type "/" subtype *( OWS ";" OWS
/// parameter )`, surrounding whitespace allowed. Returns it trimmed.
pub(crate) fn content_type(media_type: &str) -> Option<&str> {
    let trimmed = trim_ows(media_type);
    let (_, rest) = token(trimmed)?;
    let rest = rest.strip_prefix('/')?;
    let (_, mut rest) = token(rest)?;
    loop {
        rest = trim_ows(rest);
        if rest.is_empty() {
            return Some(trimmed);
        }
        rest = trim_ows(rest.strip_prefix(';')?);
        if rest.is_empty() {
            // A trailing ";" is tolerated, as mail and HTTP parsers do.
            return Some(trimmed);
        }
        let (_, after_name) = token(rest)?;
        let value = after_name.strip_prefix('=')?;
        rest = match token(value) {
            Some((_, after)) => after,
            None => quoted_string(value)?,
        };
    }
}

/// The draft's `oid`: dotted decimal, first arc 0..=2, no leading zeros.
fn is_oid(s: &str) -> bool {
    let mut arcs = s.split('.');
    let first_ok = matches!(arcs.next(), Some("0" | "1" | "2"));
    first_ok
        && arcs.all(|arc| {
            !arc.is_empty()
                && arc.bytes().all(|b| b.is_ascii_digit())
                && (arc == "0" || !arc.starts_with('0'))
        })
}

/// An absolute URI (RFC 3986 §4.3): a scheme, ":", then URI characters
/// (percent-escapes well formed, no fragment).
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut scheme_bytes = scheme.bytes();
    let scheme_ok = scheme_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme_bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok || rest.is_empty() {
        return false;
    }
    let bytes = rest.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    true
}

/// The draft's `"__cmwc_t": ~uri / oid`.
pub(crate) fn collection_type(s: &str) -> bool {
    is_oid(s) || is_absolute_uri(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        for good in [
            "application/eat+cwt",
            "application/psa-attestation-token",
            "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"",
            "application/eat-collection; profile=\"http://arm.com/CCA-SSD/1.0.0\"",
            "application/cose; cose-type=\"cose-sign1\"",
            "application/eat+cwt; eat_profile=2.16.840.1.113741.1.16.1",
            "text/plain;charset=utf-8",
            "a/b ; x=y;z=\"q\\\"uote\"",
            "a/b;",
        ] {
            assert!(content_type(good).is_some(), "{good}");
        }
        assert_eq!(content_type("  a/b \t"), Some("a/b"));
        for bad in [
            "",
            "application",
            "application/",
            "/json",
            "application/json/x",
            "application /json",
            "application/json; x",
            "application/json; x=",
            "application/json; x=\"unterminated",
            "application/json; =y",
            "application/json x=y",
            "appl\u{e9}cation/json",
            "a/b; x=\"ctl\u{1}\"",
        ] {
            assert!(content_type(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn collection_types() {
        for good in [
            "tag:example.com,2024:composite-attester",
            "https://example.com/cmw/collection?x=1",
            "urn:ietf:params:x",
            "1.2.840.113741.1.16.1",
            "2.5",
            "0",
            "http://a/%20b",
        ] {
            assert!(collection_type(good), "{good}");
        }
        for bad in [
            "",
            "3.1",
            "1.02",
            "1..2",
            "1.",
            "relative/path",
            "tag:",
            "1tag:x",
            "http://a b",
            "http://a/%2",
            "http://a/#frag",
        ] {
            assert!(!collection_type(bad), "{bad:?}");
        }
    }
}
