//! The BOLT 1 primitives every message is made of: big-endian fixed fields, points,
//! and the TLV extension stream that ends every message.
//!
//! Reading is by [`Reader`], a cursor that checks every length against what is left
//! before it looks, so a short or lying input is an error, never a panic or a large
//! allocation. BigSize is the one in [`crate::onion::tlv`] (one definition).

use bitcoin::secp256k1::{PublicKey, SecretKey};

use super::error::WireError;
use crate::onion::tlv::{read_bigsize, write_bigsize, PayloadError};

/// A cursor over one message's payload (the bytes after the type).
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    message: &'static str,
}

impl<'a> Reader<'a> {
    /// Reads `bytes`, the payload of `message`.
    pub(crate) fn new(bytes: &'a [u8], message: &'static str) -> Self {
        Reader {
            bytes,
            pos: 0,
            message,
        }
    }

    /// Bytes not read yet.
    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The next `n` bytes of `field`.
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if n > self.left() {
            return Err(WireError::Truncated {
                message: self.message,
                field,
                offset: self.pos,
                need: n,
                left: self.left(),
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A fixed-size array.
    pub(crate) fn array<const N: usize>(
        &mut self,
        field: &'static str,
    ) -> Result<[u8; N], WireError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, field)?);
        Ok(a)
    }

    /// A `u16`.
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// A `u32`.
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// A `u64`.
    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// A compressed point.
    pub(crate) fn point(&mut self, field: &'static str) -> Result<PublicKey, WireError> {
        let b = self.take(33, field)?;
        point_from(b, self.message, field)
    }

    /// A `u16` count of entries of `entry_len` bytes each, checked against what is left
    /// before anything is allocated for them.
    pub(crate) fn count(
        &mut self,
        entry_len: usize,
        field: &'static str,
    ) -> Result<usize, WireError> {
        let n = self.u16(field)? as usize;
        if n * entry_len > self.left() {
            return Err(WireError::Truncated {
                message: self.message,
                field,
                offset: self.pos,
                need: n * entry_len,
                left: self.left(),
            });
        }
        Ok(n)
    }

    /// The extension TLV stream that ends the message: every record up to the end.
    /// Records of a type in `known` (ascending) are returned; unknown odd types are
    /// skipped; an unknown even type, a non-minimal BigSize, a type not above the one
    /// before it, or a length past the end is an error.
    pub(crate) fn tlv_stream(mut self, known: &[u64]) -> Result<Vec<(u64, &'a [u8])>, WireError> {
        let message = self.message;
        let mut out = Vec::new();
        let mut previous: Option<u64> = None;
        while self.left() > 0 {
            let start = self.pos;
            let tlv_type = self.bigsize()?;
            if let Some(p) = previous {
                if tlv_type <= p {
                    return Err(WireError::TlvOrder {
                        message,
                        tlv_type,
                        previous: p,
                        offset: start,
                    });
                }
            }
            previous = Some(tlv_type);
            let len = self.bigsize()?;
            if len > self.left() as u64 {
                return Err(WireError::TlvValueTruncated {
                    message,
                    tlv_type,
                    len,
                    left: self.left(),
                });
            }
            let value = &self.bytes[self.pos..self.pos + len as usize];
            self.pos += len as usize;
            if known.contains(&tlv_type) {
                out.push((tlv_type, value));
            } else if tlv_type % 2 == 0 {
                return Err(WireError::UnknownEvenTlv {
                    message,
                    tlv_type,
                    offset: start,
                });
            }
        }
        Ok(out)
    }

    fn bigsize(&mut self) -> Result<u64, WireError> {
        let message = self.message;
        match read_bigsize(&self.bytes[self.pos..], self.pos) {
            Ok((v, n)) => {
                self.pos += n;
                Ok(v)
            }
            Err(PayloadError::NonMinimal { offset, .. }) => {
                Err(WireError::NonMinimalBigSize { message, offset })
            }
            Err(_) => Err(WireError::TlvTruncated {
                message,
                offset: self.pos,
            }),
        }
    }
}

/// 33 bytes as a compressed point.
pub(crate) fn point_from(
    b: &[u8],
    message: &'static str,
    field: &'static str,
) -> Result<PublicKey, WireError> {
    PublicKey::from_slice(b).map_err(|_| WireError::InvalidPoint { message, field })
}

/// 32 bytes as a scalar.
pub(crate) fn scalar_from(
    b: &[u8],
    message: &'static str,
    field: &'static str,
) -> Result<SecretKey, WireError> {
    SecretKey::from_slice(b).map_err(|_| WireError::InvalidScalar { message, field })
}

/// A known record's value, which must be exactly `N` bytes.
pub(crate) fn fixed<const N: usize>(
    value: &[u8],
    message: &'static str,
    tlv_type: u64,
) -> Result<[u8; N], WireError> {
    value.try_into().map_err(|_| WireError::TlvLength {
        message,
        tlv_type,
        len: value.len(),
        expected: N,
    })
}

/// Appends one TLV record. Callers write records in ascending type order.
pub(crate) fn write_record(out: &mut Vec<u8>, tlv_type: u64, value: &[u8]) {
    write_bigsize(out, tlv_type);
    write_bigsize(out, value.len() as u64);
    out.extend_from_slice(value);
}
