//! Bounds-checked, big-endian reading and writing of TPM 2.0 wire data.
//!
//! Every TPM structure is canonical big-endian with `u16`-prefixed sized
//! buffers (TPM2B). The reader never indexes past its input: each read
//! checks the length first and fails with [`TpmError::Truncated`], whose
//! text follows Go's `encoding/binary` (what go-tpm, and so Veraison, print):
//! `EOF` when nothing was left, `unexpected EOF` when only part was.

use crate::error::TpmError;

/// A cursor over TPM wire bytes.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The unread bytes (without consuming them).
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Reads exactly `n` bytes; `field` names what is being read, for the error.
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], TpmError> {
        let available = self.remaining();
        let end = self.pos.checked_add(n).filter(|_| n <= available);
        match end.and_then(|end| self.buf.get(self.pos..end).map(|s| (s, end))) {
            Some((slice, end)) => {
                self.pos = end;
                Ok(slice)
            }
            None => Err(TpmError::Truncated {
                field,
                partial: available > 0,
            }),
        }
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], TpmError> {
        let bytes = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, TpmError> {
        Ok(u8::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, TpmError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, TpmError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, TpmError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// Reads a TPM2B: a `u16` size followed by that many bytes.
    pub(crate) fn tpm2b(&mut self, field: &'static str) -> Result<&'a [u8], TpmError> {
        let size = self.u16(field)?;
        self.take(usize::from(size), field)
    }

    /// Fails unless every byte has been read: TPM structures have no
    /// padding, so anything left over means the input is not what it claims.
    pub(crate) fn finish(&self, structure: &'static str) -> Result<(), TpmError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(TpmError::TrailingBytes { structure, count }),
        }
    }
}

/// Appends TPM wire data to a buffer.
#[derive(Debug, Default, Clone)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    pub(crate) fn u16(&mut self, v: u16) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// Writes a TPM2B; fails when the content does not fit a `u16` size.
    pub(crate) fn tpm2b(
        &mut self,
        field: &'static str,
        bytes: &[u8],
    ) -> Result<&mut Self, TpmError> {
        let size = u16::try_from(bytes.len()).map_err(|_| TpmError::TooLarge {
            field,
            len: bytes.len(),
        })?;
        self.u16(size);
        self.buf.extend_from_slice(bytes);
        Ok(self)
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reads_big_endian_and_reports_eof_like_go() {
        let data = [0x01, 0x02, 0x03, 0x04, 0x05];
        let mut r = Reader::new(&data);
        assert_eq!(r.u16("a").unwrap(), 0x0102);
        assert_eq!(r.u16("b").unwrap(), 0x0304);
        let err = r.u32("c").unwrap_err();
        assert_eq!(err.to_string(), "decoding c: unexpected EOF");
        // A failed read consumes nothing.
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.u8("d").unwrap(), 5);
        assert_eq!(r.u8("e").unwrap_err().to_string(), "decoding e: EOF");
        r.finish("x").unwrap();
    }

    #[test]
    fn tpm2b_round_trip_and_limits() {
        let mut w = Writer::new();
        w.tpm2b("f", b"abc").unwrap().u64(7);
        let bytes = w.into_bytes();
        assert_eq!(bytes, [0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0, 0, 0, 7]);
        let mut r = Reader::new(&bytes);
        assert_eq!(r.tpm2b("f").unwrap(), b"abc");
        assert_eq!(r.rest().len(), 8);
        assert_eq!(
            r.finish("s").unwrap_err().to_string(),
            "s has 8 trailing bytes"
        );
        assert!(Writer::new().tpm2b("big", &vec![0; 70_000]).is_err());
        // A size larger than what is left is a truncation, not a panic.
        let mut r = Reader::new(&[0xff, 0xff, 1]);
        assert!(matches!(r.tpm2b("g"), Err(TpmError::Truncated { .. })));
    }
}
