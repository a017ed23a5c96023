use std::fmt;

/// A media type, parsed once and kept in one canonical form.
///
/// The canonical form is what Go's `mime.FormatMediaType` produces, because
/// that is what Veraison advertises: lower-case type, subtype and parameter
/// names, parameters sorted by name, `; ` between them, and a value quoted
/// only when it holds a character that is not allowed in a token. Two media
/// types are equal when their canonical forms are, so
/// `application/eat-cwt;profile="http://arm.com/psa/2.0.0"` matches the
/// advertised `application/eat-cwt; profile="http://arm.com/psa/2.0.0"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaType {
    canonical: String,
    essence_len: usize,
}

/// Why a string is not a media type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaTypeError {
    /// Nothing to parse.
    #[error("empty media type")]
    Empty,
    /// The `type/subtype` part is malformed.
    #[error("invalid media type {0:?}: expected type/subtype")]
    Essence(String),
    /// A parameter is malformed.
    #[error("invalid media type parameter {0:?}")]
    Parameter(String),
    /// A parameter appears twice.
    #[error("duplicate media type parameter {0:?}")]
    DuplicateParameter(String),
}

const MAX_LEN: usize = 1024;

fn is_tspecial(c: char) -> bool {
    matches!(
        c,
        '(' | ')' | '<' | '>' | '@' | ',' | ';' | ':' | '\\' | '"' | '/' | '[' | ']' | '?' | '='
    )
}

fn is_token_char(c: char) -> bool {
    c.is_ascii() && c > ' ' && c != '\x7f' && !is_tspecial(c)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

impl MediaType {
    /// Parses a media type such as a `Content-Type` header value.
    pub fn parse(input: &str) -> Result<Self, MediaTypeError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(MediaTypeError::Empty);
        }
        let too_long = || {
            let preview: String = input.chars().take(32).collect();
            MediaTypeError::Essence(format!("{preview}…"))
        };
        if input.len() > MAX_LEN {
            return Err(too_long());
        }
        let (essence, mut rest) = match input.find(';') {
            Some(i) => (&input[..i], &input[i..]),
            None => (input, ""),
        };
        let essence = essence.trim().to_ascii_lowercase();
        let valid_essence = essence
            .split_once('/')
            .is_some_and(|(t, s)| is_token(t) && is_token(s));
        if !valid_essence {
            return Err(MediaTypeError::Essence(input.to_owned()));
        }

        let mut params: Vec<(String, String)> = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            let Some(after_semi) = rest.strip_prefix(';') else {
                return Err(MediaTypeError::Parameter(rest.to_owned()));
            };
            let after_semi = after_semi.trim_start();
            if after_semi.is_empty() {
                // A trailing ';' is tolerated, as Go does.
                break;
            }
            let (name, value, remaining) = parse_parameter(after_semi)?;
            if params.iter().any(|(n, _)| *n == name) {
                return Err(MediaTypeError::DuplicateParameter(name));
            }
            params.push((name, value));
            rest = remaining;
        }
        params.sort();

        let mut canonical = essence;
        let essence_len = canonical.len();
        for (name, value) in &params {
            canonical.push_str("; ");
            canonical.push_str(name);
            canonical.push('=');
            if is_token(value) {
                canonical.push_str(value);
            } else {
                canonical.push('"');
                for c in value.chars() {
                    if c == '"' || c == '\\' {
                        canonical.push('\\');
                    }
                    canonical.push(c);
                }
                canonical.push('"');
            }
        }
        // Quoting can lengthen the canonical form; bounding it too keeps
        // every canonical form parseable again.
        if canonical.len() > MAX_LEN {
            return Err(too_long());
        }
        Ok(MediaType {
            canonical,
            essence_len,
        })
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// `type/subtype` without parameters, lower case.
    pub fn essence(&self) -> &str {
        &self.canonical[..self.essence_len]
    }

    /// The value of a parameter, unquoted.
    pub fn parameter(&self, name: &str) -> Option<String> {
        let mut rest = &self.canonical[self.essence_len..];
        while let Some(after) = rest.strip_prefix("; ") {
            let (n, v, remaining) = parse_parameter(after).ok()?;
            if n.eq_ignore_ascii_case(name) {
                return Some(v);
            }
            rest = remaining;
        }
        None
    }
}

/// Parses `name=value` (value a token or quoted string) and returns the
/// lower-cased name, the unquoted value and the unparsed remainder.
fn parse_parameter(input: &str) -> Result<(String, String, &str), MediaTypeError> {
    let bad = || MediaTypeError::Parameter(input.to_owned());
    let eq = input.find('=').ok_or_else(bad)?;
    let name = input[..eq].trim();
    if !is_token(name) {
        return Err(bad());
    }
    let after = input[eq + 1..].trim_start();
    if let Some(quoted) = after.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let (_, escaped) = chars.next().ok_or_else(bad)?;
                    value.push(escaped);
                }
                '"' => return Ok((name.to_ascii_lowercase(), value, &quoted[i + 1..])),
                c => value.push(c),
            }
        }
        Err(bad())
    } else {
        let end = after
            .find(|c: char| !is_token_char(c))
            .unwrap_or(after.len());
        let value = &after[..end];
        if value.is_empty() {
            return Err(bad());
        }
        Ok((name.to_ascii_lowercase(), value.to_owned(), &after[end..]))
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

impl std::str::FromStr for MediaType {
    type Err = MediaTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MediaType::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_matches_go_format_media_type() {
        let cases = [
            (
                "application/psa-attestation-token",
                "application/psa-attestation-token",
            ),
            (
                "application/eat-cwt;profile=\"http://arm.com/psa/2.0.0\"",
                "application/eat-cwt; profile=\"http://arm.com/psa/2.0.0\"",
            ),
            (
                "Application/EAT+CWT;  EAT_Profile=\"tag:psacertified.org,2023:psa#tfm\"",
                "application/eat+cwt; eat_profile=\"tag:psacertified.org,2023:psa#tfm\"",
            ),
            (
                "application/rim+cbor; profile=2.16.840.1.113741.1.16.2",
                "application/rim+cbor; profile=2.16.840.1.113741.1.16.2",
            ),
            (
                "application/rim+cbor; profile=\"2.16.840.1.113741.1.16.2\"",
                "application/rim+cbor; profile=2.16.840.1.113741.1.16.2",
            ),
            ("text/plain; b=2; a=1", "text/plain; a=1; b=2"),
        ];
        for (input, want) in cases {
            assert_eq!(MediaType::parse(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn parameters_are_read_back_unquoted() {
        let mt = MediaType::parse("application/rim+cbor; profile=\"tag:arm.com,2025:psa#1.0.0\"")
            .unwrap();
        assert_eq!(mt.essence(), "application/rim+cbor");
        assert_eq!(
            mt.parameter("PROFILE").as_deref(),
            Some("tag:arm.com,2025:psa#1.0.0")
        );
        assert_eq!(mt.parameter("charset"), None);
    }

    #[test]
    fn malformed_media_types_are_rejected() {
        for bad in [
            "",
            "application",
            "application/",
            "/json",
            "application/json; profile",
            "application/json; profile=\"unterminated",
            "application/json; a=1; a=2",
            "appli cation/json",
            "application/json; =x",
        ] {
            assert!(MediaType::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn overlong_input_is_refused_without_splitting_a_character() {
        // Found by the fuzzer: a multi-byte character straddling the preview cut.
        let input = format!("{}¸{}", "a".repeat(31), "b".repeat(MAX_LEN));
        assert!(matches!(
            MediaType::parse(&input),
            Err(MediaTypeError::Essence(_))
        ));
    }

    #[test]
    fn quotes_and_backslashes_survive_a_round_trip() {
        let mt = MediaType::parse(r#"a/b; p="x\"y\\z""#).unwrap();
        assert_eq!(mt.parameter("p").as_deref(), Some(r#"x"y\z"#));
        let again = MediaType::parse(mt.as_str()).unwrap();
        assert_eq!(again, mt);
    }
}
