//! The chunked HPKE stream shared by bundles and results.
//!
//! One HPKE Base-mode context (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! ChaCha20Poly1305) seals the plaintext in chunks of [`CHUNK`] bytes; every
//! chunk but the last is full, and an empty plaintext is one empty chunk.
//! Chunk `i`'s AAD is `SHA-256(header bytes) || u64 LE i || last flag (1 byte)`.

use std::io::Write;

use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, Result};

pub(crate) type Kem = hpke::kem::X25519HkdfSha256;
pub(crate) type Kdf = hpke::kdf::HkdfSha256;
pub(crate) type Aead = hpke::aead::ChaCha20Poly1305;
pub(crate) type KemPrivateKey = <Kem as hpke::Kem>::PrivateKey;
type KemPublicKey = <Kem as hpke::Kem>::PublicKey;
type EncappedKey = <Kem as hpke::Kem>::EncappedKey;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
/// AEAD tag bytes per chunk.
pub const TAG: usize = 16;

/// Number of chunks for a plaintext of `len` bytes.
pub(crate) fn chunk_count(len: u64) -> u64 {
    len.div_ceil(CHUNK as u64).max(1)
}

/// Ciphertext length for a plaintext of `len` bytes.
pub(crate) fn payload_len(len: u64) -> Option<u64> {
    len.checked_add(chunk_count(len).checked_mul(TAG as u64)?)
}

fn aad(header_hash: &[u8; 32], index: u64, last: bool) -> [u8; 41] {
    let mut a = [0u8; 41];
    a[..32].copy_from_slice(header_hash);
    a[32..40].copy_from_slice(&index.to_le_bytes());
    a[40] = u8::from(last);
    a
}

/// Starts a sender context to `recipient`; returns it with the 32-byte `enc`.
pub(crate) fn setup_sender(
    recipient: &[u8; 32],
    info: &[u8],
) -> Result<(hpke::aead::AeadCtxS<Aead, Kdf, Kem>, [u8; 32])> {
    let pk = KemPublicKey::from_bytes(recipient)
        .map_err(|_| Error::Crypto("invalid X25519 public key"))?;
    let (enc, ctx) = hpke::setup_sender::<Aead, Kdf, Kem>(&OpModeS::Base, &pk, info)
        .map_err(|_| Error::Crypto("HPKE encapsulation failed"))?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&enc.to_bytes());
    Ok((ctx, out))
}

/// Streams plaintext into sealed chunks written to `out`, hashing the
/// ciphertext as it goes. `total` is the exact plaintext length.
pub(crate) struct Sealer<'w> {
    ctx: hpke::aead::AeadCtxS<Aead, Kdf, Kem>,
    header_hash: [u8; 32],
    total: u64,
    consumed: u64,
    index: u64,
    buf: Zeroizing<Vec<u8>>,
    out: &'w mut dyn Write,
    payload_hash: Sha256,
}

impl std::fmt::Debug for Sealer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("total", &self.total)
            .field("consumed", &self.consumed)
            .finish_non_exhaustive()
    }
}

impl<'w> Sealer<'w> {
    pub(crate) fn new(
        ctx: hpke::aead::AeadCtxS<Aead, Kdf, Kem>,
        header_hash: [u8; 32],
        total: u64,
        out: &'w mut dyn Write,
    ) -> Self {
        Sealer {
            ctx,
            header_hash,
            total,
            consumed: 0,
            index: 0,
            buf: Zeroizing::new(Vec::with_capacity(CHUNK)),
            out,
            payload_hash: Sha256::new(),
        }
    }

    /// Adds plaintext; errors if more than `total` bytes arrive.
    pub(crate) fn write(&mut self, mut data: &[u8]) -> Result<()> {
        let room = self.total - self.consumed;
        if data.len() as u64 > room {
            return Err(Error::InvalidInput(
                "more plaintext than announced (did an input file grow while packing?)".into(),
            ));
        }
        while !data.is_empty() {
            let take = (CHUNK - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            self.consumed += take as u64;
            data = &data[take..];
            if self.buf.len() == CHUNK {
                self.flush_chunk()?;
            }
        }
        Ok(())
    }

    fn flush_chunk(&mut self) -> Result<()> {
        let last = self.consumed == self.total;
        let ct = self
            .ctx
            .seal(&self.buf, &aad(&self.header_hash, self.index, last))
            .map_err(|_| Error::Crypto("HPKE seal failed"))?;
        self.buf.clear();
        self.index += 1;
        self.payload_hash.update(&ct);
        self.out
            .write_all(&ct)
            .map_err(|e| Error::io("writing the encrypted payload", e))
    }

    /// Seals the final chunk and returns SHA-256 of the whole payload.
    pub(crate) fn finish(mut self) -> Result<[u8; 32]> {
        if self.consumed != self.total {
            return Err(Error::InvalidInput(
                "less plaintext than announced (did an input file shrink while packing?)".into(),
            ));
        }
        // A non-empty plaintext that ended on a chunk boundary was flushed in `write`.
        if self.index == 0 || !self.buf.is_empty() {
            self.flush_chunk()?;
        }
        Ok(self.payload_hash.finalize().into())
    }
}

/// Decrypts a whole payload. Refuses (before allocating) a plaintext over
/// `max_plaintext`, and any chunk layout the sealer would not produce.
pub(crate) fn open(
    recipient: &KemPrivateKey,
    enc: &[u8; 32],
    info: &[u8],
    header_hash: &[u8; 32],
    payload: &[u8],
    max_plaintext: u64,
) -> Result<Zeroizing<Vec<u8>>> {
    const FULL: usize = CHUNK + TAG;
    let n = (payload.len() as u64).div_ceil(FULL as u64).max(1);
    let plain_len = (payload.len() as u64)
        .checked_sub(n * TAG as u64)
        .ok_or_else(|| Error::malformed("payload shorter than its authentication tags"))?;
    if payload_len(plain_len) != Some(payload.len() as u64) {
        return Err(Error::malformed(
            "payload length is not a valid chunk layout",
        ));
    }
    if plain_len > max_plaintext {
        return Err(Error::TooLarge {
            what: "decrypted payload",
            limit: max_plaintext,
            got: plain_len,
        });
    }
    let enc = EncappedKey::from_bytes(enc).map_err(|_| Error::Decrypt)?;
    let mut ctx = hpke::setup_receiver::<Aead, Kdf, Kem>(&OpModeR::Base, recipient, &enc, info)
        .map_err(|_| Error::Decrypt)?;
    let mut plain = Zeroizing::new(Vec::with_capacity(plain_len as usize));
    let mut chunks = payload.chunks(FULL).peekable();
    let mut index = 0u64;
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let pt = Zeroizing::new(
            ctx.open(chunk, &aad(header_hash, index, last))
                .map_err(|_| Error::Decrypt)?,
        );
        plain.extend_from_slice(&pt);
        index += 1;
    }
    Ok(plain)
}
