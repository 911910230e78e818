//! Bundles: packing on the owner's side, verifying and opening in the enclave.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::chunked::{self, CHUNK, Sealer};
use crate::keys::{
    EnclaveKeyPair, EnclaveKeyPublic, OwnerPublic, OwnerSecret, signed_message, verify_signature,
};
use crate::language::Language;
use crate::paths::validate_set;
use crate::policy::{EnclavePolicy, Limits};
use crate::serde_util::hex32;
use crate::wire::{self, Reader};
use crate::{Error, Result};

/// Magic bytes that start a bundle.
pub const BUNDLE_MAGIC: &[u8; 8] = b"SHIELDB1";
/// The `format` of a [`BundleHeader`].
pub const BUNDLE_FORMAT: &str = "shield-bundle/1";
/// Largest bundle header, in bytes.
pub const MAX_BUNDLE_HEADER: u32 = 1 << 20;
/// Largest bundle Shield's script enclaves open: their 1 GiB heap holds it,
/// its decrypted files, the script's memory and the result.
pub const MAX_BUNDLE: u64 = 128 << 20;
/// Largest manifest, in bytes.
pub const MAX_MANIFEST: u32 = 1 << 20;
/// Domain label of the owner's signature.
pub(crate) const BUNDLE_SIG_LABEL: &[u8] = b"shield bundle v1\0";
/// HPKE `info` of the bundle payload.
pub(crate) const BUNDLE_INFO: &[u8] = b"shield bundle payload v1";

/// The bundle's clear-text header (JSON). Everything in it is bound to the
/// payload's encryption (through the chunk AAD) and to the owner's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleHeader {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The script's language.
    pub language: Language,
    /// Which enclaves may open the bundle.
    pub policy: EnclavePolicy,
    /// Limits for the run.
    pub limits: Limits,
    /// The owner: signs the bundle, receives the result.
    pub owner: OwnerPublic,
    /// [`EnclaveKeyPublic::fingerprint`] of the enclave key the payload is encrypted to.
    #[serde(with = "hex32")]
    pub recipient: [u8; 32],
    /// The HPKE encapsulated key.
    #[serde(with = "hex32")]
    pub enc: [u8; 32],
}

/// One file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Path inside the bundle (validated).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
}

/// Size and hash of the script's standard input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdinEntry {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content.
    #[serde(with = "hex32")]
    pub sha256: [u8; 32],
}

/// The encrypted manifest at the start of the payload's plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The script to run (one of `files`).
    pub entry: String,
    /// The files, in payload order.
    pub files: Vec<FileEntry>,
    /// The standard input, if any.
    pub stdin: Option<StdinEntry>,
    /// Arguments the owner fixed (`shield pack --args`): the script gets
    /// exactly these, and a run with any others is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// The script's environment (`shield pack --env NAME=VALUE`), sealed
    /// with the files: the host neither sees nor adds to it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<(String, String)>,
}

/// What [`pack`] puts in a bundle.
#[derive(Debug, Clone)]
pub struct PackInput {
    /// The script's language.
    pub language: Language,
    /// Which enclaves may open the bundle.
    pub policy: EnclavePolicy,
    /// Limits for the run.
    pub limits: Limits,
    /// Bundle path of the script to run; must be one of `files`.
    pub entry: String,
    /// `(path inside the bundle, source file)`, in payload order.
    pub files: Vec<(String, PathBuf)>,
    /// A file to give the script as standard input.
    pub stdin: Option<PathBuf>,
    /// Arguments to fix for every run (see [`Manifest::args`]).
    pub args: Option<Vec<String>>,
    /// The script's environment (see [`Manifest::env`]).
    pub env: Vec<(String, String)>,
}

/// An environment a script can be given: names non-empty, without `=`
/// or NUL and each once; values without NUL.
fn validate_env(env: &[(String, String)]) -> Result<()> {
    let mut seen = std::collections::BTreeSet::new();
    for (name, value) in env {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(Error::InvalidInput(format!(
                "{name:?} is not an environment variable name"
            )));
        }
        if value.contains('\0') {
            return Err(Error::InvalidInput(format!(
                "the value of {name} contains a NUL byte"
            )));
        }
        if !seen.insert(name.as_str()) {
            return Err(Error::InvalidInput(format!(
                "the environment variable {name} is given twice"
            )));
        }
    }
    Ok(())
}

impl PackInput {
    fn validate(&self) -> Result<()> {
        validate_set(self.files.iter().map(|(p, _)| p.as_str()))?;
        if !self.files.iter().any(|(p, _)| *p == self.entry) {
            return Err(Error::InvalidInput(format!(
                "the entry {:?} is not among the bundle's files",
                self.entry
            )));
        }
        if self.args.iter().flatten().any(|a| a.contains('\0')) {
            return Err(Error::InvalidInput(
                "an argument contains a NUL byte".into(),
            ));
        }
        validate_env(&self.env)?;
        Ok(())
    }

    fn sources(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.iter().map(|(_, s)| s).chain(self.stdin.as_ref())
    }
}

fn file_len(path: &PathBuf) -> Result<u64> {
    let meta =
        fs::metadata(path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if !meta.is_file() {
        return Err(Error::InvalidInput(format!(
            "{} is not a regular file (packing reads every input twice)",
            path.display()
        )));
    }
    Ok(meta.len())
}

fn open_source(path: &PathBuf) -> Result<fs::File> {
    fs::File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))
}

/// Reads exactly `size` bytes of `path` in chunks, handing each to `sink`.
/// Returns the SHA-256 of what was read.
fn stream_file(
    path: &PathBuf,
    size: u64,
    buf: &mut [u8],
    sink: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<[u8; 32]> {
    let mut file = open_source(path)?.take(size);
    let mut hash = Sha256::new();
    let mut done = 0u64;
    loop {
        let n = file
            .read(buf)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        done += n as u64;
        sink(&buf[..n])?;
    }
    if done != size {
        return Err(Error::InvalidInput(format!(
            "{} shrank while packing ({size} bytes expected, {done} read)",
            path.display()
        )));
    }
    Ok(hash.finalize().into())
}

fn header_json(header: &BundleHeader) -> Result<Vec<u8>> {
    let bytes = serde_json::to_vec(header).expect("BundleHeader serializes");
    if bytes.len() > MAX_BUNDLE_HEADER as usize {
        return Err(Error::TooLarge {
            what: "bundle header",
            limit: MAX_BUNDLE_HEADER.into(),
            got: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

fn manifest_json(manifest: &Manifest) -> Result<Vec<u8>> {
    let bytes = serde_json::to_vec(manifest).expect("Manifest serializes");
    if bytes.len() > MAX_MANIFEST as usize {
        return Err(Error::TooLarge {
            what: "manifest",
            limit: MAX_MANIFEST.into(),
            got: bytes.len() as u64,
        });
    }
    Ok(bytes)
}

/// Plaintext length for a manifest and data sizes.
fn plaintext_len(manifest_len: usize, manifest: &Manifest) -> Result<u64> {
    let too_large = || Error::TooLarge {
        what: "bundle plaintext",
        limit: u64::MAX,
        got: u64::MAX,
    };
    let mut total = 4 + manifest_len as u64;
    for f in &manifest.files {
        total = total.checked_add(f.size).ok_or_else(too_large)?;
    }
    if let Some(s) = &manifest.stdin {
        total = total.checked_add(s.size).ok_or_else(too_large)?;
    }
    Ok(total)
}

/// The exact size of the bundle [`pack`] would write for `input` now (from
/// the files' current sizes).
pub fn bundle_total_bytes(input: &PackInput) -> Result<u64> {
    input.validate()?;
    let placeholder = [0u8; 32];
    let mut files = Vec::with_capacity(input.files.len());
    for (path, source) in &input.files {
        files.push(FileEntry {
            path: path.clone(),
            size: file_len(source)?,
            sha256: placeholder,
        });
    }
    let stdin = match &input.stdin {
        Some(s) => Some(StdinEntry {
            size: file_len(s)?,
            sha256: placeholder,
        }),
        None => None,
    };
    let manifest = Manifest {
        entry: input.entry.clone(),
        files,
        stdin,
        args: input.args.clone(),
        env: input.env.clone(),
    };
    let plain = plaintext_len(manifest_json(&manifest)?.len(), &manifest)?;
    // The header's length does not depend on the key values.
    let header = BundleHeader {
        format: BUNDLE_FORMAT.to_owned(),
        language: input.language,
        policy: input.policy.clone(),
        limits: input.limits,
        owner: OwnerPublic {
            signing: placeholder,
            encryption: placeholder,
        },
        recipient: placeholder,
        enc: placeholder,
    };
    let header_len = header_json(&header)?.len() as u64;
    chunked::payload_len(plain)
        .and_then(|p| p.checked_add(8 + 4 + header_len + 8 + 64))
        .ok_or(Error::TooLarge {
            what: "bundle",
            limit: u64::MAX,
            got: u64::MAX,
        })
}

/// Packs a bundle for the enclave key `to`, signed by `owner`, into `out`.
///
/// Streams: pass 1 hashes every file, pass 2 writes the header and the
/// encrypted payload (and checks that no file changed in between). Only one
/// chunk of file data is in memory at a time. `progress(done, total)` is
/// called as data is read, over both passes (`total` is twice the data size).
///
/// # Panics
/// If the operating system's random number generator fails.
pub fn pack(
    input: &PackInput,
    to: &EnclaveKeyPublic,
    owner: &OwnerSecret,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    input.validate()?;
    let mut sizes = Vec::new();
    for source in input.sources() {
        sizes.push(file_len(source)?);
    }
    let total = sizes
        .iter()
        .try_fold(0u64, |a, &s| a.checked_add(s))
        .and_then(|t| t.checked_mul(2))
        .ok_or(Error::TooLarge {
            what: "bundle input",
            limit: u64::MAX / 2,
            got: u64::MAX,
        })?;
    let mut done = 0u64;
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);

    // Pass 1: hash.
    let mut hashes = Vec::with_capacity(sizes.len());
    for (source, &size) in input.sources().zip(&sizes) {
        let hash = stream_file(source, size, &mut buf, &mut |data| {
            done += data.len() as u64;
            progress(done, total);
            Ok(())
        })?;
        hashes.push(hash);
    }
    progress(done, total);
    let manifest = Manifest {
        entry: input.entry.clone(),
        files: input
            .files
            .iter()
            .zip(sizes.iter().zip(&hashes))
            .map(|((path, _), (&size, &sha256))| FileEntry {
                path: path.clone(),
                size,
                sha256,
            })
            .collect(),
        stdin: input.stdin.as_ref().map(|_| StdinEntry {
            size: sizes[sizes.len() - 1],
            sha256: hashes[hashes.len() - 1],
        }),
        args: input.args.clone(),
        env: input.env.clone(),
    };
    let manifest_bytes = manifest_json(&manifest)?;
    let plain_len = plaintext_len(manifest_bytes.len(), &manifest)?;
    let payload_len = chunked::payload_len(plain_len).ok_or(Error::TooLarge {
        what: "bundle payload",
        limit: u64::MAX,
        got: u64::MAX,
    })?;

    // Header.
    let (ctx, enc) = chunked::setup_sender(&to.encryption, BUNDLE_INFO)?;
    let header = BundleHeader {
        format: BUNDLE_FORMAT.to_owned(),
        language: input.language,
        policy: input.policy.clone(),
        limits: input.limits,
        owner: owner.public(),
        recipient: to.fingerprint(),
        enc,
    };
    let header_bytes = header_json(&header)?;
    let header_hash: [u8; 32] = Sha256::digest(&header_bytes).into();
    wire::write_prefix(out, BUNDLE_MAGIC, &header_bytes, payload_len)?;

    // Pass 2: encrypt.
    let mut sealer = Sealer::new(ctx, header_hash, plain_len, out);
    sealer.write(&(manifest_bytes.len() as u32).to_le_bytes())?;
    sealer.write(&manifest_bytes)?;
    for ((source, &size), expected) in input.sources().zip(&sizes).zip(&hashes) {
        let hash = stream_file(source, size, &mut buf, &mut |data| {
            sealer.write(data)?;
            done += data.len() as u64;
            progress(done, total);
            Ok(())
        })?;
        if hash != *expected {
            return Err(Error::InvalidInput(format!(
                "{} changed while packing",
                source.display()
            )));
        }
    }
    let payload_hash = sealer.finish()?;
    let signature = owner.sign(&signed_message(
        BUNDLE_SIG_LABEL,
        &header_hash,
        &payload_hash,
    ));
    out.write_all(&signature)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io("writing the bundle signature", e))?;
    progress(total, total);
    Ok(())
}

/// Parses a bundle header's JSON and checks its format.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<BundleHeader> {
    let header: BundleHeader = serde_json::from_slice(bytes)
        .map_err(|e| Error::malformed(format!("bundle header: {e}")))?;
    if header.format != BUNDLE_FORMAT {
        return Err(Error::malformed(format!(
            "bundle header: format {:?}, expected {BUNDLE_FORMAT:?}",
            header.format
        )));
    }
    Ok(header)
}

/// SHA-256 of the message the owner signs: the bundle's identity.
pub(crate) fn bundle_digest(header_hash: &[u8; 32], payload_hash: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(signed_message(BUNDLE_SIG_LABEL, header_hash, payload_hash)).into()
}

/// A bundle whose structure and owner signature have been checked (step 1
/// in the enclave). Nothing is decrypted yet.
pub struct VerifiedBundle<'a> {
    /// The parsed header.
    pub header: BundleHeader,
    header_bytes: &'a [u8],
    payload: &'a [u8],
    header_hash: [u8; 32],
    payload_hash: [u8; 32],
    signature: [u8; 64],
}

/// The header of a bundle, parsed with the same bounds but **not verified**:
/// what the host reads to find which enclave key a bundle is for. Nothing
/// read here may be trusted; the enclave verifies everything again.
pub fn peek_header(bytes: &[u8]) -> Result<BundleHeader> {
    let c = wire::parse_container(bytes, BUNDLE_MAGIC, MAX_BUNDLE_HEADER, "bundle")?;
    parse_header(c.header)
}

/// Enclave side, step 1: parses `bytes` with bounds and verifies the owner's
/// signature over header and payload. Decrypts nothing.
pub fn verify_bundle(bytes: &[u8]) -> Result<VerifiedBundle<'_>> {
    let c = wire::parse_container(bytes, BUNDLE_MAGIC, MAX_BUNDLE_HEADER, "bundle")?;
    let header = parse_header(c.header)?;
    let header_hash: [u8; 32] = Sha256::digest(c.header).into();
    let payload_hash: [u8; 32] = Sha256::digest(c.payload).into();
    verify_signature(
        &header.owner.signing,
        &signed_message(BUNDLE_SIG_LABEL, &header_hash, &payload_hash),
        &c.signature,
        "the owner's bundle signature",
    )?;
    Ok(VerifiedBundle {
        header,
        header_bytes: c.header,
        payload: c.payload,
        header_hash,
        payload_hash,
        signature: c.signature,
    })
}

impl std::fmt::Debug for VerifiedBundle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedBundle")
            .field("header", &self.header)
            .field("digest", &hex::encode(self.digest()))
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

impl<'a> VerifiedBundle<'a> {
    /// Identifies the bundle: SHA-256 of the message the owner signed
    /// (`"shield bundle v1\0" || SHA-256(header) || SHA-256(payload)`).
    pub fn digest(&self) -> [u8; 32] {
        bundle_digest(&self.header_hash, &self.payload_hash)
    }

    /// The header exactly as signed.
    pub fn header_bytes(&self) -> &'a [u8] {
        self.header_bytes
    }

    /// SHA-256 of the encrypted payload.
    pub fn payload_digest(&self) -> [u8; 32] {
        self.payload_hash
    }

    /// The owner's signature.
    pub fn signature(&self) -> [u8; 64] {
        self.signature
    }

    /// Step 2 (after the caller checked `header.policy` against its own
    /// identity): checks that the bundle is addressed to `key`, decrypts
    /// (refusing a plaintext over `max_plaintext` bytes), and checks every
    /// file's size and hash against the manifest.
    pub fn open(&self, key: &EnclaveKeyPair, max_plaintext: u64) -> Result<BundleContents> {
        if self.header.recipient != key.public().fingerprint() {
            return Err(Error::WrongRecipient);
        }
        let plain = chunked::open(
            key.encryption_key(),
            &self.header.enc,
            BUNDLE_INFO,
            &self.header_hash,
            self.payload,
            max_plaintext,
        )?;
        parse_plaintext(&plain)
    }
}

fn parse_plaintext(plain: &[u8]) -> Result<BundleContents> {
    let mut r = Reader::new(plain);
    let manifest_len = r.u32("manifest length")?;
    if manifest_len > MAX_MANIFEST {
        return Err(Error::TooLarge {
            what: "manifest",
            limit: MAX_MANIFEST.into(),
            got: manifest_len.into(),
        });
    }
    let manifest: Manifest = serde_json::from_slice(r.take(manifest_len.into(), "manifest")?)
        .map_err(|e| Error::malformed(format!("manifest: {e}")))?;
    validate_set(manifest.files.iter().map(|f| f.path.as_str()))?;
    validate_env(&manifest.env).map_err(|e| Error::malformed(format!("manifest: {e}")))?;
    if !manifest.files.iter().any(|f| f.path == manifest.entry) {
        return Err(Error::malformed(format!(
            "manifest: the entry {:?} is not among the files",
            manifest.entry
        )));
    }
    let check = |data: &[u8], sha256: &[u8; 32], what: &str| -> Result<()> {
        if Sha256::digest(data).as_slice() != sha256 {
            return Err(Error::Integrity(format!(
                "{what} does not match its manifest hash"
            )));
        }
        Ok(())
    };
    let mut files = BTreeMap::new();
    for f in &manifest.files {
        let data = r.take(f.size, &f.path)?;
        check(data, &f.sha256, &f.path)?;
        files.insert(f.path.clone(), data.to_vec());
    }
    let stdin = match &manifest.stdin {
        Some(s) => {
            let data = r.take(s.size, "stdin")?;
            check(data, &s.sha256, "stdin")?;
            data.to_vec()
        }
        None => Vec::new(),
    };
    r.finish("bundle plaintext")?;
    Ok(BundleContents {
        entry: manifest.entry,
        files,
        stdin,
        args: manifest.args,
        env: manifest.env,
    })
}

/// A bundle's decrypted, checked content. `Debug` shows names and sizes only.
#[derive(Clone, PartialEq, Eq)]
pub struct BundleContents {
    /// The script to run (a key of `files`).
    pub entry: String,
    /// Every file by bundle path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Standard input (empty if the bundle has none).
    pub stdin: Vec<u8>,
    /// The arguments the owner fixed, if any ([`Manifest::args`]).
    pub args: Option<Vec<String>>,
    /// The script's environment ([`Manifest::env`]).
    pub env: Vec<(String, String)>,
}

impl std::fmt::Debug for BundleContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: BTreeMap<&str, usize> = self
            .files
            .iter()
            .map(|(k, v)| (k.as_str(), v.len()))
            .collect();
        f.debug_struct("BundleContents")
            .field("entry", &self.entry)
            .field("file_sizes", &files)
            .field("stdin_len", &self.stdin.len())
            .field("args_count", &self.args.as_ref().map(Vec::len))
            .field("env_count", &self.env.len())
            .finish()
    }
}
