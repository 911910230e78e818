//! SIGSTRUCT (SDM vol. 3D, 38.13): build, sign, verify and describe.
//!
//! The signature is RSA-3072 with public exponent 3, PKCS#1 v1.5 over the
//! SHA-256 of two regions (bytes 0..128 and 900..1028). Big integers are
//! stored little-endian. Q1 and Q2 let EINIT check the signature with two
//! multiplications: Q1 = ⌊S²/N⌋, Q2 = ⌊(S³ − Q1·S·N)/N⌋. MRSIGNER is the
//! SHA-256 of the little-endian modulus.

use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{BigUint, Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use sgx_isa::{Attributes, AttributesFlags, Miscselect, Sigstruct};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::config::EnclaveConfig;
use crate::measure::Measurement;
use crate::{Error, Result, hex};

/// SIGSTRUCT.HEADER, fixed by the SDM.
pub const HEADER: [u8; 16] = [6, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0];
/// Bit 31 of HEADER bytes 12..16: the Intel SDK's "release type" marker.
pub const HEADER_TYPE_RELEASE: u32 = 1 << 31;
/// SIGSTRUCT.HEADER2, fixed by the SDM.
pub const HEADER2: [u8; 16] = [1, 1, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0];
/// SIGSTRUCT.VENDOR for Intel-signed enclaves; everyone else uses 0.
pub const VENDOR_INTEL: u32 = 0x8086;
/// RSA modulus size in bytes.
pub const MODULUS_BYTES: usize = 384;
/// The only public exponent SGX accepts.
pub const EXPONENT: u32 = 3;

/// XFRM bits for x87 and SSE state, which every enclave has.
pub const XFRM_LEGACY: u64 = 0x3;

/// SIGSTRUCT.DATE (BCD `0xYYYYMMDD`) of a calendar date; `None` if out of range.
pub fn bcd_date(year: u32, month: u32, day: u32) -> Option<u32> {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let bcd = |value: u32, digits: u32| {
        (0..digits).fold(0, |acc, i| acc | ((value / 10u32.pow(i)) % 10) << (4 * i))
    };
    Some(bcd(year, 4) << 16 | bcd(month, 2) << 8 | bcd(day, 2))
}

/// The two byte ranges of a SIGSTRUCT that the signature covers.
const SIGNED_REGIONS: [std::ops::Range<usize>; 2] = [0..128, 900..1028];

/// An RSA-3072, e = 3 key that signs enclaves. The private key is zeroized
/// on drop (by the `rsa` crate).
#[derive(Debug, Clone)]
pub struct SigningKey {
    key: RsaPrivateKey,
}

impl SigningKey {
    /// Generates a new key. Takes a few seconds: RSA-3072 prime search.
    pub fn generate() -> Result<Self> {
        let mut rng = rand_core::OsRng;
        let key = RsaPrivateKey::new_with_exp(&mut rng, 3072, &BigUint::from(EXPONENT))
            .map_err(|e| Error::SigningKey(format!("generating an RSA-3072 key: {e}")))?;
        Self::from_key(key)
    }

    /// Reads a PEM private key (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self> {
        let key = RsaPrivateKey::from_pkcs1_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem))
            .map_err(|e| {
                Error::SigningKey(format!("not a PEM RSA private key (PKCS#1 or PKCS#8): {e}"))
            })?;
        Self::from_key(key)
    }

    fn from_key(key: RsaPrivateKey) -> Result<Self> {
        if key.size() != MODULUS_BYTES {
            return Err(Error::SigningKey(format!(
                "SGX needs a 3072-bit RSA key; this one has {} bits",
                key.n().bits()
            )));
        }
        if key.e() != &BigUint::from(EXPONENT) {
            return Err(Error::SigningKey(format!(
                "SGX needs public exponent 3; this key has {}",
                key.e()
            )));
        }
        key.validate()
            .map_err(|e| Error::SigningKey(format!("inconsistent RSA key: {e}")))?;
        Ok(Self { key })
    }

    /// The key as PKCS#1 PEM, in memory that is zeroized on drop.
    pub fn to_pem(&self) -> Result<Zeroizing<String>> {
        self.key
            .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| Error::SigningKey(format!("encoding the key: {e}")))
    }

    /// The modulus, little-endian, as SIGSTRUCT.MODULUS holds it.
    pub fn modulus_le(&self) -> [u8; MODULUS_BYTES] {
        to_le_fixed(self.key.n())
    }

    /// MRSIGNER of enclaves signed by this key.
    pub fn mrsigner(&self) -> Measurement {
        Sha256::digest(self.modulus_le()).into()
    }

    /// Fills in MODULUS, EXPONENT, SIGNATURE, Q1 and Q2 of `sigstruct`,
    /// whose other fields must be final.
    pub fn sign(&self, sigstruct: &mut Sigstruct) -> Result<()> {
        sigstruct.modulus = self.modulus_le();
        sigstruct.exponent = EXPONENT;
        let signature = self.sign_digest(&signed_digest(sigstruct))?;
        sigstruct.signature = signature.signature;
        sigstruct.q1 = signature.q1;
        sigstruct.q2 = signature.q2;
        Ok(())
    }

    /// PKCS#1 v1.5 signature of a SHA-256 digest, in SIGSTRUCT's
    /// little-endian form with its Q1 and Q2.
    pub fn sign_digest(&self, digest: &[u8; 32]) -> Result<RawSignature> {
        let signature_be = self
            .key
            .sign(Pkcs1v15Sign::new::<Sha256>(), digest)
            .map_err(|e| Error::SigningKey(format!("RSA signing failed: {e}")))?;
        let signature = BigUint::from_bytes_be(&signature_be);
        let (q1, q2) = q1_q2(&signature, self.key.n());
        Ok(RawSignature {
            signature: to_le_fixed(&signature),
            q1: to_le_fixed(&q1),
            q2: to_le_fixed(&q2),
        })
    }
}

/// An RSA-3072 signature with EINIT's helper values, all little-endian.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSignature {
    /// The signature S.
    pub signature: [u8; MODULUS_BYTES],
    /// ⌊S²/N⌋.
    pub q1: [u8; MODULUS_BYTES],
    /// ⌊(S³ − Q1·S·N)/N⌋.
    pub q2: [u8; MODULUS_BYTES],
}

/// The fields an enclave author chooses; everything else in a SIGSTRUCT is
/// fixed or computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstructFields {
    /// 0, or 0x8086 for Intel's own enclaves.
    pub vendor: u32,
    /// Signing date as BCD `0xYYYYMMDD`.
    pub date: u32,
    /// MISCSELECT the enclave requires, and which of its bits must match.
    pub miscselect: u32,
    /// Mask over MISCSELECT.
    pub miscmask: u32,
    /// ATTRIBUTES the enclave requires.
    pub attributes: Attributes,
    /// Which ATTRIBUTES bits must match (flags, xfrm).
    pub attributemask: [u64; 2],
    /// The enclave's MRENCLAVE.
    pub enclavehash: Measurement,
    /// ISVPRODID.
    pub isvprodid: u16,
    /// ISVSVN.
    pub isvsvn: u16,
}

impl SigstructFields {
    /// The fields Shield signs an enclave with: identity from `config`,
    /// 64-bit mode with x87 and SSE state, DEBUG exactly as configured (the
    /// mask covers every bit, so a debug enclave cannot be launched as a
    /// production one, nor the reverse). `date` is BCD `0xYYYYMMDD`.
    pub fn for_config(enclavehash: Measurement, config: &EnclaveConfig, date: u32) -> Self {
        let mut flags = AttributesFlags::MODE64BIT;
        if config.debug {
            flags |= AttributesFlags::DEBUG;
        }
        Self {
            vendor: 0,
            date,
            miscselect: 0,
            miscmask: 0xffff_ffff,
            attributes: Attributes {
                flags,
                xfrm: XFRM_LEGACY,
            },
            attributemask: [!AttributesFlags::INIT.bits(), XFRM_LEGACY],
            enclavehash,
            isvprodid: config.isv_prod_id,
            isvsvn: config.isv_svn,
        }
    }

    /// An unsigned SIGSTRUCT carrying these fields.
    pub fn to_unsigned(&self) -> Sigstruct {
        Sigstruct {
            header: HEADER,
            vendor: self.vendor,
            date: self.date,
            header2: HEADER2,
            miscselect: Miscselect::from_bits_truncate(self.miscselect),
            miscmask: self.miscmask,
            attributes: self.attributes,
            attributemask: self.attributemask,
            enclavehash: self.enclavehash,
            isvprodid: self.isvprodid,
            isvsvn: self.isvsvn,
            ..Sigstruct::default()
        }
    }
}

/// Parses a 1808-byte SIGSTRUCT, checking its fixed headers and exponent.
/// The signature is not checked here: see [`verify`].
pub fn parse(bytes: &[u8]) -> Result<Sigstruct> {
    let sigstruct = Sigstruct::try_copy_from(bytes).ok_or_else(|| {
        Error::Sigstruct(format!(
            "a SIGSTRUCT is {} bytes; this input has {}",
            Sigstruct::UNPADDED_SIZE,
            bytes.len()
        ))
    })?;
    // Bytes 12..16 of HEADER are the SDK's `type` word: 0, or bit 31 set
    // for a "release type" signature; enclaves signed either way launch.
    let header_type = u32::from_le_bytes([
        sigstruct.header[12],
        sigstruct.header[13],
        sigstruct.header[14],
        sigstruct.header[15],
    ]);
    if sigstruct.header[..12] != HEADER[..12]
        || header_type & !HEADER_TYPE_RELEASE != 0
        || sigstruct.header2 != HEADER2
    {
        return Err(Error::Sigstruct(
            "HEADER or HEADER2 is not the SDM's constant".into(),
        ));
    }
    if sigstruct.exponent != EXPONENT {
        return Err(Error::Sigstruct(format!(
            "EXPONENT is {}, not 3",
            sigstruct.exponent
        )));
    }
    if sigstruct.vendor != 0 && sigstruct.vendor != VENDOR_INTEL {
        return Err(Error::Sigstruct(format!(
            "VENDOR is {:#x}; only 0 and 0x8086 are defined",
            sigstruct.vendor
        )));
    }
    Ok(sigstruct)
}

/// Checks the signature, Q1 and Q2 of a SIGSTRUCT the way EINIT does.
pub fn verify(sigstruct: &Sigstruct) -> Result<()> {
    let n = BigUint::from_bytes_le(&sigstruct.modulus);
    let public = RsaPublicKey::new(n.clone(), BigUint::from(EXPONENT))
        .map_err(|e| Error::BadSignature(format!("MODULUS is not a usable RSA key: {e}")))?;
    if public.size() != MODULUS_BYTES {
        return Err(Error::BadSignature("MODULUS is not 3072 bits".into()));
    }
    let signature = BigUint::from_bytes_le(&sigstruct.signature);
    let digest = signed_digest(sigstruct);
    public
        .verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &digest,
            &to_be_fixed(&signature),
        )
        .map_err(|_| {
            Error::BadSignature("RSA PKCS#1 v1.5 check over the signed regions failed".into())
        })?;
    let (q1, q2) = q1_q2(&signature, &n);
    if to_le_fixed(&q1) != sigstruct.q1 || to_le_fixed(&q2) != sigstruct.q2 {
        return Err(Error::BadSignature(
            "Q1/Q2 do not match the signature".into(),
        ));
    }
    Ok(())
}

/// MRSIGNER: SHA-256 of the little-endian modulus.
pub fn mrsigner(sigstruct: &Sigstruct) -> Measurement {
    Sha256::digest(sigstruct.modulus).into()
}

/// The SHA-256 digest that the signature covers.
pub fn signed_digest(sigstruct: &Sigstruct) -> [u8; 32] {
    let bytes = sigstruct.as_ref();
    let mut hash = Sha256::new();
    for region in SIGNED_REGIONS {
        hash.update(&bytes[region]);
    }
    hash.finalize().into()
}

/// The human-readable fields, one `name: value` per line.
pub fn describe(sigstruct: &Sigstruct) -> String {
    let flags = sigstruct.attributes.flags;
    let date = sigstruct.date;
    let lines = [
        format!("ENCLAVEHASH {}", hex(&sigstruct.enclavehash)),
        format!("MRSIGNER {}", hex(&mrsigner(sigstruct))),
        format!("vendor: {:#06x}", sigstruct.vendor),
        format!(
            "date: {:04x}-{:02x}-{:02x}",
            date >> 16,
            (date >> 8) & 0xff,
            date & 0xff
        ),
        format!("isvprodid: {}", sigstruct.isvprodid),
        format!("isvsvn: {}", sigstruct.isvsvn),
        format!(
            "miscselect: {:#010x} (mask {:#010x})",
            sigstruct.miscselect.bits(),
            sigstruct.miscmask
        ),
        format!(
            "attributes: flags {:#018x} [{}] xfrm {:#018x}",
            flags.bits(),
            flag_names(flags),
            sigstruct.attributes.xfrm
        ),
        format!(
            "attributemask: flags {:#018x} xfrm {:#018x}",
            sigstruct.attributemask[0], sigstruct.attributemask[1]
        ),
        format!("debug: {}", flags.contains(AttributesFlags::DEBUG)),
    ];
    lines.join("\n")
}

fn flag_names(flags: AttributesFlags) -> String {
    let names = [
        (AttributesFlags::INIT, "INIT"),
        (AttributesFlags::DEBUG, "DEBUG"),
        (AttributesFlags::MODE64BIT, "MODE64BIT"),
        (AttributesFlags::PROVISIONKEY, "PROVISIONKEY"),
        (AttributesFlags::EINITTOKENKEY, "EINITTOKENKEY"),
        (AttributesFlags::CET, "CET"),
        (AttributesFlags::KSS, "KSS"),
    ];
    let set: Vec<&str> = names
        .iter()
        .filter(|(f, _)| flags.contains(*f))
        .map(|(_, n)| *n)
        .collect();
    set.join(" ")
}

fn q1_q2(signature: &BigUint, n: &BigUint) -> (BigUint, BigUint) {
    let s2 = signature * signature;
    let q1 = &s2 / n;
    let s3 = &s2 * signature;
    let q2 = (s3 - &q1 * signature * n) / n;
    (q1, q2)
}

/// A big integer as exactly 384 little-endian bytes (callers keep values below 2^3072).
fn to_le_fixed(value: &BigUint) -> [u8; MODULUS_BYTES] {
    let mut out = [0u8; MODULUS_BYTES];
    let bytes = value.to_bytes_le();
    let n = bytes.len().min(MODULUS_BYTES);
    out[..n].copy_from_slice(&bytes[..n]);
    out
}

fn to_be_fixed(value: &BigUint) -> Vec<u8> {
    let mut out = to_le_fixed(value);
    out.reverse();
    out.to_vec()
}
