//! Owner keys (files on the owner's machine) and the enclave's key pair.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hpke::{Deserializable, Kem as _, Serializable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::chunked::{Kem, KemPrivateKey};
use crate::language::Language;
use crate::serde_util::{b64, hex32};
use crate::{Error, Result};

/// File name of the owner's secret key inside the owner directory.
pub const OWNER_KEY_FILE: &str = "owner.key";
/// File name of the owner's public key (JSON) inside the owner directory.
pub const OWNER_PUB_FILE: &str = "owner.pub";
/// The `format` of an [`AttestedKey`] document.
pub const ATTESTED_KEY_FORMAT: &str = "shield-attested-key/1";
/// Largest `ak.json` accepted by [`AttestedKey::from_json`].
pub const MAX_ATTESTED_KEY_JSON: usize = 8 << 20;

const OWNER_SECRET_MAGIC: &[u8; 8] = b"SHIELDOK";
const ENCLAVE_SECRET_MAGIC: &[u8; 8] = b"SHIELDEK";
const SECRET_VERSION: u8 = 1;
const SECRET_LEN: usize = 8 + 1 + 32 + 32;
const MAX_PUBLIC_JSON: u64 = 64 << 10;

/// Fills `buf` from the operating system's randomness.
///
/// # Panics
/// If the OS cannot provide randomness (there is no safe way to go on).
pub(crate) fn random_bytes(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

fn random_x25519() -> (KemPrivateKey, [u8; 32]) {
    let mut ikm = Zeroizing::new([0u8; 32]);
    random_bytes(&mut ikm[..]);
    let (sk, pk) = Kem::derive_keypair(&ikm[..]);
    let mut pk_bytes = [0u8; 32];
    pk_bytes.copy_from_slice(&pk.to_bytes());
    (sk, pk_bytes)
}

fn random_ed25519() -> SigningKey {
    let mut seed = Zeroizing::new([0u8; 32]);
    random_bytes(&mut seed[..]);
    SigningKey::from_bytes(&seed)
}

fn x25519_public(sk: &KemPrivateKey) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&Kem::sk_to_pk(sk).to_bytes());
    out
}

/// Encodes `magic || version || a || b` into a zeroizing buffer.
fn encode_secret(magic: &[u8; 8], a: &[u8; 32], b: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
    out.extend_from_slice(magic);
    out.push(SECRET_VERSION);
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out
}

type Secret32 = Zeroizing<[u8; 32]>;

/// Decodes `magic || version || a || b`.
fn decode_secret(magic: &[u8; 8], bytes: &[u8], what: &str) -> Result<(Secret32, Secret32)> {
    if bytes.len() != SECRET_LEN {
        return Err(Error::malformed(format!(
            "{what}: expected {SECRET_LEN} bytes, got {}",
            bytes.len()
        )));
    }
    if &bytes[..8] != magic {
        return Err(Error::malformed(format!("{what}: wrong magic")));
    }
    if bytes[8] != SECRET_VERSION {
        return Err(Error::malformed(format!(
            "{what}: unsupported version {}",
            bytes[8]
        )));
    }
    let mut a = Zeroizing::new([0u8; 32]);
    let mut b = Zeroizing::new([0u8; 32]);
    a.copy_from_slice(&bytes[9..41]);
    b.copy_from_slice(&bytes[41..73]);
    Ok((a, b))
}

fn x25519_from_bytes(bytes: &[u8; 32]) -> Result<KemPrivateKey> {
    KemPrivateKey::from_bytes(bytes).map_err(|_| Error::malformed("invalid X25519 private key"))
}

/// The message an Ed25519 key signs: a domain label, then two SHA-256 digests.
pub(crate) fn signed_message(
    label: &[u8],
    header_hash: &[u8; 32],
    payload_hash: &[u8; 32],
) -> Vec<u8> {
    let mut msg = Vec::with_capacity(label.len() + 64);
    msg.extend_from_slice(label);
    msg.extend_from_slice(header_hash);
    msg.extend_from_slice(payload_hash);
    msg
}

/// Verifies a strict Ed25519 signature by the public key `signer`.
pub(crate) fn verify_signature(
    signer: &[u8; 32],
    msg: &[u8],
    sig: &[u8; 64],
    what: &'static str,
) -> Result<()> {
    let key = VerifyingKey::from_bytes(signer).map_err(|_| Error::BadSignature(what))?;
    let sig = ed25519_dalek::Signature::from_bytes(sig);
    key.verify_strict(msg, &sig)
        .map_err(|_| Error::BadSignature(what))
}

fn fingerprint(label: &[u8], a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(label);
    h.update(a);
    h.update(b);
    h.finalize().into()
}

// ---------------------------------------------------------------- owner

/// The owner's secret keys: an Ed25519 key that signs bundles and an X25519
/// key that results are encrypted to. Zeroized on drop; `Debug` shows only the
/// public half.
pub struct OwnerSecret {
    signing: SigningKey,
    encryption: KemPrivateKey,
    encryption_public: [u8; 32],
}

impl std::fmt::Debug for OwnerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnerSecret")
            .field("public", &self.public())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl OwnerSecret {
    /// A fresh random owner key.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn generate() -> Self {
        let (encryption, encryption_public) = random_x25519();
        OwnerSecret {
            signing: random_ed25519(),
            encryption,
            encryption_public,
        }
    }

    /// The public half.
    pub fn public(&self) -> OwnerPublic {
        OwnerPublic {
            signing: self.signing.verifying_key().to_bytes(),
            encryption: self.encryption_public,
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    pub(crate) fn encryption_key(&self) -> &KemPrivateKey {
        &self.encryption
    }

    /// The secret encoding stored in `owner.key`:
    /// `"SHIELDOK" || 0x01 || Ed25519 seed (32) || X25519 private key (32)`.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut x = Zeroizing::new([0u8; 32]);
        self.encryption.write_exact(&mut x[..]);
        encode_secret(OWNER_SECRET_MAGIC, &self.signing.to_bytes(), &x[..])
    }

    /// Parses [`OwnerSecret::to_secret_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        let (seed, x) = decode_secret(OWNER_SECRET_MAGIC, bytes, "owner secret key")?;
        let encryption = x25519_from_bytes(&x)?;
        Ok(OwnerSecret {
            signing: SigningKey::from_bytes(&seed),
            encryption_public: x25519_public(&encryption),
            encryption,
        })
    }

    /// Writes `dir/owner.key` (the secret, mode 0600, never overwriting an
    /// existing file) and `dir/owner.pub` (the public key as JSON). Creates
    /// `dir` with mode 0700 if it is missing.
    pub fn save(&self, dir: &Path) -> Result<()> {
        create_private_dir(dir)?;
        let key_path = dir.join(OWNER_KEY_FILE);
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = match options.open(&key_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::KeyFile {
                    path: key_path,
                    reason: "exists already; refusing to overwrite an owner key".into(),
                });
            }
            Err(e) => return Err(Error::io(format!("creating {}", key_path.display()), e)),
        };
        let secret = self.to_secret_bytes();
        file.write_all(&secret)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(format!("writing {}", key_path.display()), e))?;
        let pub_path = dir.join(OWNER_PUB_FILE);
        fs::write(&pub_path, self.public().to_json())
            .map_err(|e| Error::io(format!("writing {}", pub_path.display()), e))
    }

    /// Reads `dir/owner.key`. Refuses a key file that group or others may
    /// read or write (mode & 0o077 != 0).
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(OWNER_KEY_FILE);
        let mut file = open_regular(&path)?;
        let meta = file
            .metadata()
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::KeyFile {
                    path: path.clone(),
                    reason: format!(
                        "mode {mode:04o} lets group or others access the secret key; \
                         run `chmod 600 {}`",
                        path.display()
                    ),
                });
            }
        }
        if meta.len() != SECRET_LEN as u64 {
            return Err(Error::KeyFile {
                path,
                reason: format!("expected {SECRET_LEN} bytes, found {}", meta.len()),
            });
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
        (&mut file)
            .take(SECRET_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Self::from_secret_bytes(&bytes).map_err(|e| Error::KeyFile {
            path,
            reason: e.to_string(),
        })
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| Error::io(format!("creating directory {}", dir.display()), e))
}

/// Opens `path` for reading if it is a regular file, checked on the open
/// file itself (no window to swap it). The open does not block: a FIFO
/// would wait for a writer.
fn open_regular(path: &Path) -> Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let context = || format!("reading {}", path.display());
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(context(), e))?;
    let meta = file.metadata().map_err(|e| Error::io(context(), e))?;
    if meta.is_file() {
        Ok(file)
    } else {
        Err(Error::io(
            context(),
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
        ))
    }
}

/// Reads a small file, refusing one larger than `limit`.
pub(crate) fn read_bounded(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            what,
            limit,
            got: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// The owner's public keys (`owner.pub`; hex in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerPublic {
    /// Ed25519 public key that signs bundles.
    #[serde(with = "hex32")]
    pub signing: [u8; 32],
    /// X25519 public key that results are encrypted to.
    #[serde(with = "hex32")]
    pub encryption: [u8; 32],
}

impl OwnerPublic {
    /// SHA-256(`"shield owner key v1\0"` || signing || encryption).
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint(b"shield owner key v1\0", &self.signing, &self.encryption)
    }

    /// Reads `owner.pub` from a directory, or the given file.
    pub fn load(dir_or_file: &Path) -> Result<Self> {
        let path: PathBuf = if dir_or_file.is_dir() {
            dir_or_file.join(OWNER_PUB_FILE)
        } else {
            dir_or_file.to_path_buf()
        };
        let bytes = read_bounded(&path, MAX_PUBLIC_JSON, "owner public key file")?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::malformed(format!("{}: {e}", path.display())))
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("OwnerPublic serializes");
        s.push('\n');
        s
    }
}

// ---------------------------------------------------------------- enclave

/// The enclave's key pair: an X25519 key that bundles are encrypted to and
/// an Ed25519 key that signs results. Made inside the enclave; the enclave
/// seals [`EnclaveKeyPair::to_secret_bytes`]. Zeroized on drop; `Debug`
/// shows only the public half.
pub struct EnclaveKeyPair {
    encryption: KemPrivateKey,
    encryption_public: [u8; 32],
    signing: SigningKey,
}

impl std::fmt::Debug for EnclaveKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnclaveKeyPair")
            .field("public", &self.public())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl EnclaveKeyPair {
    /// A fresh random key pair.
    ///
    /// # Panics
    /// If the operating system's random number generator fails.
    pub fn generate() -> Self {
        let (encryption, encryption_public) = random_x25519();
        EnclaveKeyPair {
            encryption,
            encryption_public,
            signing: random_ed25519(),
        }
    }

    /// The public half.
    pub fn public(&self) -> EnclaveKeyPublic {
        EnclaveKeyPublic {
            encryption: self.encryption_public,
            signing: self.signing.verifying_key().to_bytes(),
        }
    }

    pub(crate) fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    pub(crate) fn encryption_key(&self) -> &KemPrivateKey {
        &self.encryption
    }

    /// The secret encoding the enclave seals:
    /// `"SHIELDEK" || 0x01 || X25519 private key (32) || Ed25519 seed (32)`.
    pub fn to_secret_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut x = Zeroizing::new([0u8; 32]);
        self.encryption.write_exact(&mut x[..]);
        let seed = Zeroizing::new(self.signing.to_bytes());
        encode_secret(ENCLAVE_SECRET_MAGIC, &x, &seed[..])
    }

    /// Parses [`EnclaveKeyPair::to_secret_bytes`].
    pub fn from_secret_bytes(bytes: &[u8]) -> Result<Self> {
        let (x, seed) = decode_secret(ENCLAVE_SECRET_MAGIC, bytes, "enclave secret key")?;
        let encryption = x25519_from_bytes(&x)?;
        Ok(EnclaveKeyPair {
            encryption_public: x25519_public(&encryption),
            encryption,
            signing: SigningKey::from_bytes(&seed),
        })
    }
}

/// The enclave key's public half (hex in JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnclaveKeyPublic {
    /// X25519 public key that bundles are encrypted to.
    #[serde(with = "hex32")]
    pub encryption: [u8; 32],
    /// Ed25519 public key that signs results.
    #[serde(with = "hex32")]
    pub signing: [u8; 32],
}

impl EnclaveKeyPublic {
    /// SHA-256(`"shield enclave key v1\0"` || encryption || signing): the
    /// bundle header's `recipient`.
    pub fn fingerprint(&self) -> [u8; 32] {
        fingerprint(b"shield enclave key v1\0", &self.encryption, &self.signing)
    }

    /// The SGX REPORTDATA binding this key to a quote:
    /// SHA-256(`"shield enclave report data v1\0"` || encryption || signing)
    /// in the first 32 bytes, zeros after.
    pub fn report_data(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&fingerprint(
            b"shield enclave report data v1\0",
            &self.encryption,
            &self.signing,
        ));
        out
    }
}

/// `ak.json`: the attested key document the host publishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestedKey {
    /// Always [`ATTESTED_KEY_FORMAT`].
    pub format: String,
    /// The language the enclave runs.
    pub language: Language,
    /// The enclave's public key (its [`EnclaveKeyPublic::report_data`] is in the quote).
    pub key: EnclaveKeyPublic,
    /// The SGX quote (base64 in JSON).
    #[serde(with = "b64")]
    pub quote: Vec<u8>,
    /// Verification collateral, if the host included it.
    #[serde(default)]
    pub collateral: Option<serde_json::Value>,
}

impl AttestedKey {
    /// A document of the current format.
    pub fn new(
        language: Language,
        key: EnclaveKeyPublic,
        quote: Vec<u8>,
        collateral: Option<serde_json::Value>,
    ) -> Self {
        AttestedKey {
            format: ATTESTED_KEY_FORMAT.to_owned(),
            language,
            key,
            quote,
            collateral,
        }
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("AttestedKey serializes");
        s.push('\n');
        s
    }

    /// Parses and checks the format (at most [`MAX_ATTESTED_KEY_JSON`] bytes).
    pub fn from_json(text: &str) -> Result<Self> {
        if text.len() > MAX_ATTESTED_KEY_JSON {
            return Err(Error::TooLarge {
                what: "attested key document",
                limit: MAX_ATTESTED_KEY_JSON as u64,
                got: text.len() as u64,
            });
        }
        let ak: AttestedKey = serde_json::from_str(text)
            .map_err(|e| Error::malformed(format!("attested key document: {e}")))?;
        if ak.format != ATTESTED_KEY_FORMAT {
            return Err(Error::malformed(format!(
                "attested key document: format {:?}, expected {ATTESTED_KEY_FORMAT:?}",
                ak.format
            )));
        }
        Ok(ak)
    }
}
