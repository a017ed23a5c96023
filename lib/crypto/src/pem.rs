//! PEM (RFC 7468) reading and writing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::CryptoError;

/// One decoded PEM block.
pub(crate) struct Block {
    pub(crate) label: String,
    pub(crate) der: Vec<u8>,
}

fn bad(what: impl Into<String>) -> CryptoError {
    CryptoError::PemDecode(what.into())
}

/// Decodes every PEM block in `text`, in order. Text outside blocks is
/// ignored (as Go's `pem.Decode` does), but a block that starts and does not
/// end properly is an error.
pub(crate) fn decode_all(text: &str) -> Result<Vec<Block>, CryptoError> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        if label.is_empty() {
            return Err(bad("BEGIN line has an empty label"));
        }
        let mut body = String::new();
        let mut ended = false;
        for line in lines.by_ref() {
            if let Some(end) = line
                .strip_prefix("-----END ")
                .and_then(|l| l.strip_suffix("-----"))
            {
                if end != label {
                    return Err(bad(format!(
                        "END line {end:?} does not match BEGIN line {label:?}"
                    )));
                }
                ended = true;
                break;
            }
            if line.starts_with("-----") {
                return Err(bad(format!("unexpected line {line:?} inside {label:?}")));
            }
            if line.contains(':') {
                return Err(bad("PEM headers (encrypted keys) are not supported"));
            }
            body.push_str(line);
        }
        if !ended {
            return Err(bad(format!("no END line for {label:?}")));
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| bad(format!("invalid base64 in {label:?}: {e}")))?;
        if der.is_empty() {
            return Err(bad(format!("empty {label:?} block")));
        }
        blocks.push(Block {
            label: label.to_owned(),
            der,
        });
    }
    if blocks.is_empty() {
        return Err(bad("no PEM block found"));
    }
    Ok(blocks)
}

/// Encodes DER as a PEM block with 64-column base64 lines.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = String::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    // base64 output is ASCII, so splitting on byte boundaries is safe.
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let der: Vec<u8> = (0..=255u8).collect();
        let pem = encode("TEST THING", &der);
        assert!(pem.lines().all(|l| l.len() <= 64));
        let blocks = decode_all(&pem).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].label, "TEST THING");
        assert_eq!(blocks[0].der, der);
    }

    #[test]
    fn several_blocks_and_junk() {
        let text = format!(
            "junk before\n{}between\n{}",
            encode("A", b"one"),
            encode("B", b"two")
        );
        let blocks = decode_all(&text).unwrap();
        let labels: Vec<_> = blocks.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, ["A", "B"]);
    }

    #[test]
    fn rejects_malformed() {
        for text in [
            "",
            "no pem here",
            "-----BEGIN -----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END PUBLIC KEY-----",
        ] {
            assert!(
                matches!(decode_all(text), Err(CryptoError::PemDecode(_))),
                "{text:?}"
            );
        }
    }
}
