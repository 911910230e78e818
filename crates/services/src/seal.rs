//! Sealing in Intel's `sgx_sealed_data_t` layout (`sgx_tseal.h`):
//!
//! ```text
//! offset size
//!      0  512  sgx_key_request_t key_request   (KEYNAME=SEAL, policy, ISVSVN, CPUSVN,
//!                                               attribute/misc masks, fresh random KEYID)
//!    512    4  uint32_t plain_text_offset       (= length of the encrypted text)
//!    516   12  reserved (zero)
//!    528    4  aes_data.payload_size            (encrypted text + additional MAC text)
//!    532   12  aes_data.reserved (zero)
//!    544   16  aes_data.payload_tag             (AES-128-GCM tag)
//!    560    …  aes_data.payload                 (ciphertext, then the MAC text in clear)
//! ```
//!
//! As in the SDK (`tSeal.cpp`): the key is EGETKEY(SEAL) under the request
//! stored in the blob, the IV is twelve zero bytes (sound because every blob
//! has a fresh random KEYID, hence a fresh key), the additional MAC text is
//! GCM's AAD, and the attribute and MISCSELECT masks are the SDK's defaults
//! (`TSEAL_DEFAULT_FLAGSMASK`, `TSEAL_DEFAULT_MISCMASK`). Unlike
//! `sgx_seal_data`, whose default is MRSIGNER, [`seal`] makes the caller
//! choose the policy.
//!
//! [`unseal`] checks the shape (sizes, offsets, reserved bytes, key name and
//! policy) before asking for the key, then the tag; EGETKEY itself refuses a
//! request whose ISVSVN or CPUSVN is above the enclave's, so data sealed by a
//! newer enclave cannot be unsealed by an older one.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce, Tag};
use shield_sgx::isa::Keyrequest;
use shield_sgx::keys::{KeyName, key_request, policy};
use zeroize::Zeroizing;

use crate::{Error, KeySource, Result, random};

/// `sizeof(sgx_sealed_data_t)`: everything before the payload.
pub const HEADER_SIZE: usize = 560;
/// Offset of `plain_text_offset`.
const OFF_PLAIN_TEXT_OFFSET: usize = 512;
/// Offset of `aes_data.payload_size`.
const OFF_PAYLOAD_SIZE: usize = 528;
/// Offset of `aes_data.payload_tag`.
const OFF_TAG: usize = 544;

/// `TSEAL_DEFAULT_FLAGSMASK`: every attribute flag but the bits with no
/// security meaning (reserved bits 6–55, MODE64BIT, PROVISIONKEY,
/// EINITTOKENKEY).
pub const DEFAULT_FLAGS_MASK: u64 = !(0x00FF_FFFF_FFFF_FFC0 | 0x4 | 0x10 | 0x20);
/// `TSEAL_DEFAULT_MISCMASK`.
pub const DEFAULT_MISC_MASK: u32 = !0x0FFF_FFFF;

/// Which identity the seal key is bound to. There is no default: the SDK's
/// is MRSIGNER, and the choice matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealPolicy {
    /// Only this exact enclave (same MRENCLAVE) can unseal.
    MrEnclave,
    /// Any enclave by the same signer and product, with an ISVSVN at least
    /// the sealer's, can unseal.
    MrSigner,
}

impl SealPolicy {
    /// The KEYPOLICY bits.
    pub fn bits(self) -> u16 {
        match self {
            SealPolicy::MrEnclave => policy::MRENCLAVE,
            SealPolicy::MrSigner => policy::MRSIGNER,
        }
    }
}

/// `sgx_calc_sealed_data_size`: the blob size for `aad_len` bytes of
/// additional MAC text and `data_len` bytes to encrypt; `None` where the SDK
/// returns `UINT32_MAX` (the total does not fit a `u32`).
pub fn calc_sealed_data_size(aad_len: usize, data_len: usize) -> Option<u32> {
    let total = HEADER_SIZE.checked_add(aad_len)?.checked_add(data_len)?;
    u32::try_from(total).ok().filter(|&t| t != u32::MAX)
}

/// What [`unseal`] recovers.
#[derive(Debug)]
pub struct Unsealed {
    /// The decrypted text (zeroized when dropped).
    pub data: Zeroizing<Vec<u8>>,
    /// The additional MAC text, authenticated.
    pub aad: Vec<u8>,
    /// The policy the blob was sealed under.
    pub policy: SealPolicy,
    /// The sealer's ISVSVN.
    pub isvsvn: u16,
}

/// Seals `data` (encrypted) and `aad` (authenticated, in clear) under
/// `policy` for this enclave's identity, on this machine.
pub fn seal(keys: &dyn KeySource, policy: SealPolicy, data: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
    let total = calc_sealed_data_size(aad.len(), data.len())
        .ok_or(Error::InvalidInput("sealed data would exceed 4 GiB"))?;
    let (isvsvn, cpusvn) = keys.own_svns()?;
    let mut key_id = [0u8; 32];
    random(&mut key_id);
    let mut request = key_request(KeyName::Seal, policy.bits(), isvsvn, cpusvn, key_id);
    request.attributemask = [DEFAULT_FLAGS_MASK, 0];
    request.miscmask = DEFAULT_MISC_MASK;
    let key = keys.egetkey(&request)?;

    let mut blob = vec![0u8; total as usize];
    blob[..512].copy_from_slice(request.as_ref());
    let data_len = data.len() as u32; // ≤ total, which fits a u32
    let payload_len = (data.len() + aad.len()) as u32;
    blob[OFF_PLAIN_TEXT_OFFSET..OFF_PLAIN_TEXT_OFFSET + 4].copy_from_slice(&data_len.to_le_bytes());
    blob[OFF_PAYLOAD_SIZE..OFF_PAYLOAD_SIZE + 4].copy_from_slice(&payload_len.to_le_bytes());
    let (head, payload) = blob.split_at_mut(HEADER_SIZE);
    let (text, mac_text) = payload.split_at_mut(data.len());
    text.copy_from_slice(data);
    mac_text.copy_from_slice(aad);
    let cipher = Aes128Gcm::new((&*key).into());
    let tag = cipher
        .encrypt_in_place_detached(&Nonce::default(), aad, text)
        .map_err(|_| Error::InvalidInput("too long for AES-GCM"))?;
    head[OFF_TAG..OFF_TAG + 16].copy_from_slice(&tag);
    Ok(blob)
}

/// The parsed, shape-checked header of a sealed blob.
struct Header {
    request: Keyrequest,
    policy: SealPolicy,
    text_len: usize,
    tag: [u8; 16],
}

fn read_u32(bytes: &[u8], offset: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    u32::from_le_bytes(word)
}

fn parse(blob: &[u8]) -> Result<Header> {
    if blob.len() < HEADER_SIZE {
        return Err(Error::Malformed("sealed data is shorter than its header"));
    }
    if u32::try_from(blob.len()).is_err() {
        return Err(Error::Malformed("sealed data is larger than 4 GiB"));
    }
    let request = Keyrequest::try_copy_from(&blob[..512])
        .ok_or(Error::Malformed("key request has the wrong size"))?;
    if request.keyname != KeyName::Seal as u16 {
        return Err(Error::Malformed("key request is not for a seal key"));
    }
    let policy = match request.keypolicy.bits() {
        policy::MRENCLAVE => SealPolicy::MrEnclave,
        policy::MRSIGNER => SealPolicy::MrSigner,
        _ => {
            return Err(Error::Malformed(
                "key policy is neither MRENCLAVE nor MRSIGNER",
            ));
        }
    };
    if request._reserved1 != 0 || request._reserved2.iter().any(|&b| b != 0) {
        return Err(Error::Malformed("key request has reserved bytes set"));
    }
    let plain_text_offset = read_u32(blob, OFF_PLAIN_TEXT_OFFSET) as usize;
    let payload_size = read_u32(blob, OFF_PAYLOAD_SIZE) as usize;
    if blob[516..528].iter().any(|&b| b != 0) || blob[532..544].iter().any(|&b| b != 0) {
        return Err(Error::Malformed("reserved bytes are set"));
    }
    if payload_size != blob.len() - HEADER_SIZE {
        return Err(Error::Malformed(
            "payload size does not match the blob's size",
        ));
    }
    if plain_text_offset > payload_size {
        return Err(Error::Malformed("plain text offset is beyond the payload"));
    }
    let mut tag = [0u8; 16];
    tag.copy_from_slice(&blob[OFF_TAG..OFF_TAG + 16]);
    Ok(Header {
        request,
        policy,
        text_len: plain_text_offset,
        tag,
    })
}

/// The additional MAC text of a sealed blob, after the shape checks but
/// before authentication (`sgx_get_add_mac_txt_len` and friends); trust it
/// only after [`unseal`] succeeds.
pub fn unauthenticated_aad(blob: &[u8]) -> Result<&[u8]> {
    let header = parse(blob)?;
    Ok(&blob[HEADER_SIZE + header.text_len..])
}

/// Unseals `blob`: checks its shape, derives the key from the request it
/// carries (which fails for a newer sealer's ISVSVN), then decrypts and
/// authenticates. Any tampered byte, another enclave (MRENCLAVE policy),
/// another signer, or another machine gives an error.
pub fn unseal(keys: &dyn KeySource, blob: &[u8]) -> Result<Unsealed> {
    let header = parse(blob)?;
    let key = keys.egetkey(&header.request)?;
    let payload = &blob[HEADER_SIZE..];
    let (text, aad) = payload.split_at(header.text_len);
    let mut data = Zeroizing::new(text.to_vec());
    let cipher = Aes128Gcm::new((&*key).into());
    cipher
        .decrypt_in_place_detached(
            &Nonce::default(),
            aad,
            &mut data,
            Tag::from_slice(&header.tag),
        )
        .map_err(|_| Error::Authentication("sealed data's tag does not verify"))?;
    Ok(Unsealed {
        data,
        aad: aad.to_vec(),
        policy: header.policy,
        isvsvn: header.request.isvsvn,
    })
}

#[cfg(test)]
mod tests;
