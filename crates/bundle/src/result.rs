//! Results: sealed in the enclave, opened by the owner.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::bundle::{BUNDLE_SIG_LABEL, BundleHeader, VerifiedBundle, bundle_digest, parse_header};
use crate::chunked::{self, Sealer};
use crate::keys::{
    EnclaveKeyPair, EnclaveKeyPublic, OwnerSecret, signed_message, verify_signature,
};
use crate::paths::validate_set;
use crate::serde_util::{b64, hex32, hex64};
use crate::wire::{self, Reader};
use crate::{Error, Result};

/// Magic bytes that start a result.
pub const RESULT_MAGIC: &[u8; 8] = b"SHIELDR1";
/// The `format` of a [`ResultHeader`].
pub const RESULT_FORMAT: &str = "shield-result/2";
/// Largest result header, in bytes (it embeds a bundle header in base64).
pub const MAX_RESULT_HEADER: u32 = 2 << 20;
const RESULT_SIG_LABEL: &[u8] = b"shield result v1\0";
const RESULT_INFO: &[u8] = b"shield result payload v1";

/// What a script run produced. `Debug` shows sizes only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RunResult {
    /// The script's exit status.
    pub exit_status: i32,
    /// Why the run failed or was refused, if it did (limit, policy...).
    pub error: Option<String>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// Files the script wrote, by path (validated like bundle paths).
    pub files: BTreeMap<String, Vec<u8>>,
    /// The arguments the script ran with (from the host, or fixed by the
    /// owner at pack time).
    pub args: Vec<String>,
}

impl std::fmt::Debug for RunResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let files: BTreeMap<&str, usize> = self
            .files
            .iter()
            .map(|(k, v)| (k.as_str(), v.len()))
            .collect();
        f.debug_struct("RunResult")
            .field("exit_status", &self.exit_status)
            .field("error", &self.error.as_ref().map(|e| e.len()))
            .field("stdout_len", &self.stdout.len())
            .field("stderr_len", &self.stderr.len())
            .field("file_sizes", &files)
            .field("args_count", &self.args.len())
            .finish()
    }
}

/// The result's clear-text header (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultHeader {
    /// Always [`RESULT_FORMAT`].
    pub format: String,
    /// The bundle header bytes exactly as the owner signed them (base64).
    #[serde(with = "b64")]
    pub bundle_header: Vec<u8>,
    /// SHA-256 of the bundle's encrypted payload.
    #[serde(with = "hex32")]
    pub bundle_payload_sha256: [u8; 32],
    /// The owner's bundle signature.
    #[serde(with = "hex64")]
    pub bundle_signature: [u8; 64],
    /// The enclave key that signs this result.
    pub enclave: EnclaveKeyPublic,
    /// The HPKE encapsulated key (to the owner's encryption key).
    #[serde(with = "hex32")]
    pub enc: [u8; 32],
}

/// A result the owner opened and checked.
#[derive(Debug, Clone)]
pub struct OpenedResult {
    /// What the run produced.
    pub result: RunResult,
    /// [`VerifiedBundle::digest`] of the bundle this result answers.
    pub bundle_digest: [u8; 32],
    /// The enclave key that signed the result (the bundle's recipient).
    pub enclave: EnclaveKeyPublic,
    /// The header of the bundle this result answers.
    pub bundle_header: BundleHeader,
}

fn encode(result: &RunResult) -> Result<Zeroizing<Vec<u8>>> {
    validate_set(result.files.keys().map(String::as_str))?;
    let mut size = 4 + 1 + 8 + result.stdout.len() + 8 + result.stderr.len() + 4;
    size += result.error.as_ref().map_or(0, |e| 4 + e.len());
    size += result
        .files
        .iter()
        .map(|(k, v)| 4 + k.len() + 8 + v.len())
        .sum::<usize>();
    size += 4 + result.args.iter().map(|a| 4 + a.len()).sum::<usize>();
    let mut out = Zeroizing::new(Vec::with_capacity(size));
    out.extend_from_slice(&result.exit_status.to_le_bytes());
    match &result.error {
        Some(e) => {
            let len = u32::try_from(e.len()).map_err(|_| Error::TooLarge {
                what: "error message",
                limit: u32::MAX.into(),
                got: e.len() as u64,
            })?;
            out.push(1);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(e.as_bytes());
        }
        None => out.push(0),
    }
    for data in [&result.stdout, &result.stderr] {
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let count = u32::try_from(result.files.len()).map_err(|_| Error::TooLarge {
        what: "result file count",
        limit: u32::MAX.into(),
        got: result.files.len() as u64,
    })?;
    out.extend_from_slice(&count.to_le_bytes());
    for (path, data) in &result.files {
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path.as_bytes());
        out.extend_from_slice(&(data.len() as u64).to_le_bytes());
        out.extend_from_slice(data);
    }
    let too_large = |what, got: usize| Error::TooLarge {
        what,
        limit: u32::MAX.into(),
        got: got as u64,
    };
    let count = u32::try_from(result.args.len())
        .map_err(|_| too_large("argument count", result.args.len()))?;
    out.extend_from_slice(&count.to_le_bytes());
    for arg in &result.args {
        let len = u32::try_from(arg.len()).map_err(|_| too_large("argument", arg.len()))?;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(arg.as_bytes());
    }
    Ok(out)
}

fn utf8(bytes: &[u8], what: &str) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| Error::malformed(format!("{what}: not UTF-8")))
}

fn decode(plain: &[u8]) -> Result<RunResult> {
    let mut r = Reader::new(plain);
    let exit_status = r.i32("exit status")?;
    let error = match r.u8("error flag")? {
        0 => None,
        1 => {
            let len = r.u32("error length")?;
            Some(utf8(r.take(len.into(), "error message")?, "error message")?)
        }
        other => return Err(Error::malformed(format!("result: error flag {other}"))),
    };
    let len = r.u64("stdout length")?;
    let stdout = r.take(len, "stdout")?.to_vec();
    let len = r.u64("stderr length")?;
    let stderr = r.take(len, "stderr")?.to_vec();
    let count = r.u32("file count")?;
    let mut files = BTreeMap::new();
    for _ in 0..count {
        let len = r.u32("path length")?;
        let path = utf8(r.take(len.into(), "path")?, "path")?;
        let len = r.u64("file length")?;
        let data = r.take(len, "file")?.to_vec();
        if files.insert(path, data).is_some() {
            return Err(Error::malformed("result: duplicate file path"));
        }
    }
    let count = r.u32("argument count")?;
    // Each argument takes at least its 4-byte length: the count is bounded
    // by the bytes left before anything is allocated for it.
    let mut args = Vec::with_capacity((count as usize).min(r.remaining() / 4));
    for _ in 0..count {
        let len = r.u32("argument length")?;
        args.push(utf8(r.take(len.into(), "argument")?, "argument")?);
    }
    r.finish("result plaintext")?;
    validate_set(files.keys().map(String::as_str))?;
    Ok(RunResult {
        exit_status,
        error,
        stdout,
        stderr,
        files,
        args,
    })
}

/// Enclave side: encrypts `result` to the bundle's owner and signs it with
/// the enclave key. The result carries the bundle header, payload digest and
/// owner signature, so the owner can check it without the bundle.
///
/// # Panics
/// If the operating system's random number generator fails.
pub fn seal_result(
    bundle: &VerifiedBundle<'_>,
    key: &EnclaveKeyPair,
    result: &RunResult,
) -> Result<Vec<u8>> {
    let public = key.public();
    if bundle.header.recipient != public.fingerprint() {
        return Err(Error::WrongRecipient);
    }
    let plain = encode(result)?;
    let (ctx, enc) = chunked::setup_sender(&bundle.header.owner.encryption, RESULT_INFO)?;
    let header = ResultHeader {
        format: RESULT_FORMAT.to_owned(),
        bundle_header: bundle.header_bytes().to_vec(),
        bundle_payload_sha256: bundle.payload_digest(),
        bundle_signature: bundle.signature(),
        enclave: public,
        enc,
    };
    let header_bytes = serde_json::to_vec(&header).expect("ResultHeader serializes");
    if header_bytes.len() > MAX_RESULT_HEADER as usize {
        return Err(Error::TooLarge {
            what: "result header",
            limit: MAX_RESULT_HEADER.into(),
            got: header_bytes.len() as u64,
        });
    }
    let header_hash: [u8; 32] = Sha256::digest(&header_bytes).into();
    let payload_len = chunked::payload_len(plain.len() as u64).ok_or(Error::TooLarge {
        what: "result",
        limit: u64::MAX,
        got: u64::MAX,
    })?;
    let mut out = Vec::with_capacity(
        (8 + 4 + header_bytes.len() + 8 + 64).saturating_add(payload_len as usize),
    );
    wire::write_prefix(&mut out, RESULT_MAGIC, &header_bytes, payload_len)?;
    let mut sealer = Sealer::new(ctx, header_hash, plain.len() as u64, &mut out);
    sealer.write(&plain)?;
    let payload_hash = sealer.finish()?;
    out.extend_from_slice(&key.sign(&signed_message(
        RESULT_SIG_LABEL,
        &header_hash,
        &payload_hash,
    )));
    Ok(out)
}

/// Owner side: checks that the embedded bundle header is signed by this
/// `owner` and names as recipient the key that signed the result, verifies
/// the enclave's signature, and decrypts (refusing a plaintext over
/// `max_plaintext` bytes).
pub fn open_result(bytes: &[u8], owner: &OwnerSecret, max_plaintext: u64) -> Result<OpenedResult> {
    let c = wire::parse_container(bytes, RESULT_MAGIC, MAX_RESULT_HEADER, "result")?;
    let header: ResultHeader = serde_json::from_slice(c.header)
        .map_err(|e| Error::malformed(format!("result header: {e}")))?;
    if header.format != RESULT_FORMAT {
        return Err(Error::malformed(format!(
            "result header: format {:?}, expected {RESULT_FORMAT:?}",
            header.format
        )));
    }
    let bundle_header = parse_header(&header.bundle_header)?;
    let me = owner.public();
    if bundle_header.owner != me {
        return Err(Error::WrongOwner);
    }
    let bundle_header_hash: [u8; 32] = Sha256::digest(&header.bundle_header).into();
    verify_signature(
        &me.signing,
        &signed_message(
            BUNDLE_SIG_LABEL,
            &bundle_header_hash,
            &header.bundle_payload_sha256,
        ),
        &header.bundle_signature,
        "the owner's bundle signature (embedded in the result)",
    )?;
    if bundle_header.recipient != header.enclave.fingerprint() {
        return Err(Error::UnexpectedSigner);
    }
    let header_hash: [u8; 32] = Sha256::digest(c.header).into();
    let payload_hash: [u8; 32] = Sha256::digest(c.payload).into();
    verify_signature(
        &header.enclave.signing,
        &signed_message(RESULT_SIG_LABEL, &header_hash, &payload_hash),
        &c.signature,
        "the enclave's result signature",
    )?;
    let plain = chunked::open(
        owner.encryption_key(),
        &header.enc,
        RESULT_INFO,
        &header_hash,
        c.payload,
        max_plaintext,
    )?;
    Ok(OpenedResult {
        result: decode(&plain)?,
        bundle_digest: bundle_digest(&bundle_header_hash, &header.bundle_payload_sha256),
        enclave: header.enclave,
        bundle_header,
    })
}
