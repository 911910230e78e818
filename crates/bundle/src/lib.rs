//! ScriptShield bundles and results.
//!
//! An owner packs a script and its data into a *bundle*, encrypted to an
//! attested enclave key and signed by the owner; the enclave verifies the
//! bundle, checks the bundle's policy against its own identity, opens it,
//! runs the script and seals a *result*, encrypted to the owner and signed by
//! the enclave key; the owner opens the result. This crate holds the keys
//! ([`OwnerSecret`], [`EnclaveKeyPair`], [`AttestedKey`]) and both file
//! formats. The enclave-side functions ([`verify_bundle`],
//! [`VerifiedBundle::open`], [`seal_result`]) take and return bytes and need
//! no file system. Cryptography: HPKE (RFC 9180, mode Base,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305) from the
//! `hpke` crate, Ed25519 from `ed25519-dalek`, SHA-256 from `sha2`.
//!
//! # Formats (version 1)
//!
//! All integers are little-endian. `H(x)` is SHA-256.
//!
//! ## Bundle
//!
//! ```text
//! "SHIELDB1" | u32 header_len (<= 1 MiB) | header (JSON, BundleHeader)
//!            | u64 payload_len | payload | signature (64)
//! ```
//!
//! * `header`: [`BundleHeader`] as JSON: `format` = `"shield-bundle/1"`,
//!   `language`, `policy`, `limits`, `owner` (hex keys), `recipient`
//!   ([`EnclaveKeyPublic::fingerprint`], hex) and `enc` (the HPKE
//!   encapsulated key, hex). Unknown fields are refused.
//! * `signature`: Ed25519 (strict verification) by `owner.signing` over
//!   `"shield bundle v1\0" || H(header) || H(payload)`. The bundle's
//!   digest ([`VerifiedBundle::digest`]) is the SHA-256 of that message.
//! * `payload`: one HPKE Base-mode sender context to the enclave's X25519
//!   key with `info = "shield bundle payload v1"`, sealing the plaintext in
//!   chunks of 65536 bytes: every chunk is full except the last, which holds
//!   1..=65536 bytes (0 only when the whole plaintext is empty, which is then
//!   one chunk). Each chunk is `ciphertext || 16-byte tag`, in order, with
//!   AAD = `H(header) || u64 chunk index || u8 last (1 for the last chunk,
//!   else 0)`. Truncation, reordering and any change to the header (such as
//!   a host substituting its own owner key and re-signing) make decryption
//!   fail.
//! * plaintext: `u32 manifest_len (<= 1 MiB) | manifest (JSON, Manifest) |
//!   file bytes in manifest order | stdin bytes`, nothing after. The
//!   manifest is `{"entry", "files": [{"path", "size", "sha256"}],
//!   "stdin": null | {"size", "sha256"}, "args"?: [string]}` (`args`, when
//!   present, are the arguments the owner fixed). Paths are relative UTF-8 of at most
//!   1024 bytes, `/`-separated, without empty, `.` or `..` components, NUL or
//!   backslash, unique, and no path is also a parent directory of another;
//!   `entry` is one of them.
//!
//! ## Result
//!
//! ```text
//! "SHIELDR1" | u32 header_len (<= 2 MiB) | header (JSON, ResultHeader)
//!            | u64 payload_len | payload | signature (64)
//! ```
//!
//! * `header`: [`ResultHeader`]: `format` = `"shield-result/2"`,
//!   `bundle_header` (the bundle header bytes, base64), `bundle_payload_sha256`
//!   (hex), `bundle_signature` (the owner's, hex), `enclave`
//!   ([`EnclaveKeyPublic`]) and `enc` (hex).
//! * `signature`: Ed25519 by `enclave.signing` over
//!   `"shield result v1\0" || H(header) || H(payload)`.
//! * `payload`: the same chunked HPKE scheme to the owner's X25519 key with
//!   `info = "shield result payload v1"` and AAD bound to `H(result header)`.
//! * plaintext: `i32 exit_status | u8 has_error (0|1) [| u32 len | UTF-8
//!   error] | u64 len | stdout | u64 len | stderr | u32 file_count |
//!   file_count × (u32 path_len | UTF-8 path | u64 len | bytes) | u32
//!   arg_count | arg_count × (u32 len | UTF-8 argument)`, nothing after;
//!   paths follow the bundle path rules; the arguments are those the script
//!   ran with. (Version 1 had no arguments.)
//!
//! The owner accepts a result only if the embedded bundle header names the
//! owner's own key, carries a valid owner signature, and names as recipient
//! the enclave key that signed the result.
//!
//! ## Keys
//!
//! * `owner.key`: `"SHIELDOK" | 0x01 | Ed25519 seed (32) | X25519 private
//!   key (32)`, mode 0600; `owner.pub`: [`OwnerPublic`] JSON.
//! * Enclave secret ([`EnclaveKeyPair::to_secret_bytes`]): `"SHIELDEK" | 0x01 |
//!   X25519 private key (32) | Ed25519 seed (32)`.
//! * Fingerprints: owner `H("shield owner key v1\0" || signing || encryption)`,
//!   enclave `H("shield enclave key v1\0" || encryption || signing)`; SGX
//!   REPORTDATA `H("shield enclave report data v1\0" || encryption ||
//!   signing) || 32 zero bytes`.
//!
//! # Example
//!
//! ```
//! use shield_bundle::*;
//!
//! # fn main() -> Result<()> {
//! let dir = std::env::temp_dir().join(format!("shield-bundle-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let script = dir.join("main.lua");
//! std::fs::write(&script, "print('hi')").unwrap();
//!
//! let owner = OwnerSecret::generate();
//! let enclave = EnclaveKeyPair::generate();
//! let input = PackInput {
//!     language: Language::Lua,
//!     policy: EnclavePolicy { mrsigner: Some([7; 32]), ..Default::default() },
//!     limits: Limits::default(),
//!     entry: "main.lua".into(),
//!     files: vec![("main.lua".into(), script)],
//!     stdin: None,
//!     args: None,
//!     env: Vec::new(),
//! };
//! let mut bundle = Vec::new();
//! pack(&input, &enclave.public(), &owner, &mut bundle, &mut |_, _| {})?;
//!
//! // In the enclave.
//! let verified = verify_bundle(&bundle)?;
//! let contents = verified.open(&enclave, 1 << 20)?;
//! assert_eq!(contents.files["main.lua"], b"print('hi')");
//! let result = RunResult { stdout: b"hi\n".to_vec(), ..Default::default() };
//! let sealed = seal_result(&verified, &enclave, &result)?;
//!
//! // Back at the owner.
//! let opened = open_result(&sealed, &owner, 1 << 20)?;
//! assert_eq!(opened.result, result);
//! assert_eq!(opened.bundle_digest, verified.digest());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

mod bundle;
mod chunked;
mod error;
mod keys;
mod language;
mod paths;
mod policy;
mod result;
mod serde_util;
mod wire;

pub use bundle::{
    BUNDLE_FORMAT, BUNDLE_MAGIC, BundleContents, BundleHeader, FileEntry, MAX_BUNDLE,
    MAX_BUNDLE_HEADER, MAX_MANIFEST, Manifest, PackInput, StdinEntry, VerifiedBundle,
    bundle_total_bytes, pack, peek_header, verify_bundle,
};
pub use chunked::{CHUNK, TAG};
pub use error::{Error, Result};
pub use keys::{
    ATTESTED_KEY_FORMAT, AttestedKey, EnclaveKeyPair, EnclaveKeyPublic, MAX_ATTESTED_KEY_JSON,
    OWNER_KEY_FILE, OWNER_PUB_FILE, OwnerPublic, OwnerSecret,
};
pub use language::Language;
pub use paths::{MAX_PATH_LEN, validate_path};
pub use policy::{EnclaveFacts, EnclavePolicy, Limits};
pub use result::{
    MAX_RESULT_HEADER, OpenedResult, RESULT_FORMAT, RESULT_MAGIC, ResultHeader, RunResult,
    open_result, seal_result,
};

#[cfg(test)]
mod tests;
