//! Bounded binary reading and the outer container shared by bundles and
//! results: `magic (8) | u32 LE header_len | header | u64 LE payload_len |
//! payload | Ed25519 signature (64)`.

use std::io::Write;

use crate::{Error, Result};

/// A cursor over untrusted bytes; every read is checked against what remains.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8]> {
        if n > self.buf.len() as u64 {
            return Err(Error::malformed(format!(
                "{what}: needs {n} bytes, only {} left",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n as usize);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N as u64, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn i32(&mut self, what: &str) -> Result<i32> {
        Ok(i32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn finish(&self, what: &str) -> Result<()> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(Error::malformed(format!(
                "{what}: {} unexpected trailing bytes",
                self.buf.len()
            )))
        }
    }
}

/// The parts of a container, borrowed from the input.
#[derive(Debug)]
pub(crate) struct Container<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) payload: &'a [u8],
    pub(crate) signature: [u8; 64],
}

pub(crate) fn parse_container<'a>(
    bytes: &'a [u8],
    magic: &[u8; 8],
    max_header: u32,
    what: &'static str,
) -> Result<Container<'a>> {
    let mut r = Reader::new(bytes);
    if r.take(8, what)? != magic {
        return Err(Error::malformed(format!(
            "{what}: wrong magic (expected {:?})",
            String::from_utf8_lossy(magic)
        )));
    }
    let header_len = r.u32(what)?;
    if header_len > max_header {
        return Err(Error::TooLarge {
            what: "header",
            limit: max_header.into(),
            got: header_len.into(),
        });
    }
    let header = r.take(header_len.into(), what)?;
    let payload_len = r.u64(what)?;
    let payload = r.take(payload_len, what)?;
    let mut signature = [0u8; 64];
    signature.copy_from_slice(r.take(64, what)?);
    r.finish(what)?;
    Ok(Container {
        header,
        payload,
        signature,
    })
}

/// Writes `magic | u32 header_len | header | u64 payload_len`.
pub(crate) fn write_prefix(
    out: &mut dyn Write,
    magic: &[u8; 8],
    header: &[u8],
    payload_len: u64,
) -> Result<()> {
    let header_len = u32::try_from(header.len()).map_err(|_| Error::TooLarge {
        what: "header",
        limit: u32::MAX.into(),
        got: header.len() as u64,
    })?;
    let mut prefix = Vec::with_capacity(8 + 4 + header.len() + 8);
    prefix.extend_from_slice(magic);
    prefix.extend_from_slice(&header_len.to_le_bytes());
    prefix.extend_from_slice(header);
    prefix.extend_from_slice(&payload_len.to_le_bytes());
    out.write_all(&prefix)
        .map_err(|e| Error::io("writing the header", e))
}
