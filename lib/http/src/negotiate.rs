//! `Accept` header negotiation.

use http::{HeaderMap, header};

/// Whether a response of media type `offer` is acceptable to the client.
///
/// No `Accept` header means anything goes (as in Veraison). Otherwise an
/// entry matches when it names the offer (parameters ignored), its type
/// with `/*`, or `*/*`, and is not weighted `q=0`.
pub fn accepts(headers: &HeaderMap, offer: &str) -> bool {
    accepts_any(headers, &[offer])
}

/// Like [`accepts`], for a resource available in several media types.
pub fn accepts_any(headers: &HeaderMap, offers: &[&str]) -> bool {
    let mut values = headers.get_all(header::ACCEPT).iter().peekable();
    if values.peek().is_none() {
        return true;
    }
    for value in values {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let range = parts.next().unwrap_or("").trim();
            if range.is_empty() {
                continue;
            }
            let refused = parts.any(|p| {
                let p = p.trim();
                p.strip_prefix("q=")
                    .or_else(|| p.strip_prefix("Q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            if refused {
                continue;
            }
            if offers.iter().any(|offer| range_matches(range, offer)) {
                return true;
            }
        }
    }
    false
}

fn range_matches(range: &str, offer: &str) -> bool {
    if range == "*/*" || range.eq_ignore_ascii_case(offer) {
        return true;
    }
    match (range.split_once('/'), offer.split_once('/')) {
        (Some((rt, "*")), Some((ot, _))) => rt.eq_ignore_ascii_case(ot),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    const OFFER: &str = "application/vnd.veraison.challenge-response-session+json";

    #[test]
    fn absent_accept_header_accepts_anything() {
        assert!(accepts(&HeaderMap::new(), OFFER));
    }

    #[test]
    fn matching_rules() {
        assert!(accepts(&with_accept(OFFER), OFFER));
        assert!(accepts(&with_accept("*/*"), OFFER));
        assert!(accepts(&with_accept("application/*"), OFFER));
        assert!(accepts(
            &with_accept(
                "text/html, application/vnd.veraison.challenge-response-session+json;q=0.9"
            ),
            OFFER
        ));
        assert!(!accepts(&with_accept("application/json"), OFFER));
        assert!(!accepts(&with_accept("text/*"), OFFER));
        assert!(!accepts(&with_accept(&format!("{OFFER};q=0")), OFFER));
        assert!(accepts_any(
            &with_accept("application/json"),
            &[OFFER, "application/json"]
        ));
    }
}
