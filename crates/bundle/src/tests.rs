//! Tests for the whole crate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crate::bundle::{BUNDLE_SIG_LABEL, parse_header};
use crate::chunked;
use crate::keys::signed_message;
use crate::wire::{parse_container, write_prefix};
use crate::*;

const MAX: u64 = 64 << 20;

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, data).unwrap();
    path
}

fn policy() -> EnclavePolicy {
    EnclavePolicy {
        mrsigner: Some([7; 32]),
        ..Default::default()
    }
}

fn pseudo_random(len: usize, seed: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut block = Sha256::digest([seed]);
    while out.len() < len {
        out.extend_from_slice(&block);
        block = Sha256::digest(block);
    }
    out.truncate(len);
    out
}

struct Fixture {
    _dir: tempfile::TempDir,
    input: PackInput,
    expected: BTreeMap<String, Vec<u8>>,
    stdin: Vec<u8>,
}

/// Several files: an empty one, a multi-chunk one, subdirectories, stdin.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = BTreeMap::new();
    let mut files = Vec::new();
    for (name, data) in [
        ("main.lua", b"print(io.read('a'))".to_vec()),
        ("data/empty.txt", Vec::new()),
        ("data/big.bin", pseudo_random(3 * CHUNK + 12_345, 1)),
        ("lib/util/helpers.lua", b"return {}".to_vec()),
    ] {
        let path = write(dir.path(), &format!("src/{name}"), &data);
        files.push((name.to_owned(), path));
        expected.insert(name.to_owned(), data);
    }
    let stdin = b"standard input \x00\xff".to_vec();
    let stdin_path = write(dir.path(), "stdin.bin", &stdin);
    Fixture {
        input: PackInput {
            language: Language::Lua,
            policy: policy(),
            limits: Limits::default(),
            entry: "main.lua".into(),
            files,
            stdin: Some(stdin_path),
            args: Some(vec!["one".into(), "two words".into(), String::new()]),
            env: vec![
                ("GREETING".into(), "hello=world".into()),
                ("EMPTY".into(), String::new()),
            ],
        },
        _dir: dir,
        expected,
        stdin,
    }
}

/// One small file and a small stdin: small enough to flip every byte.
fn small_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.lua", b"x=1");
    let stdin_path = write(dir.path(), "in", b"in");
    let mut expected = BTreeMap::new();
    expected.insert("a.lua".to_owned(), b"x=1".to_vec());
    Fixture {
        input: PackInput {
            language: Language::Lua,
            policy: policy(),
            limits: Limits::default(),
            entry: "a.lua".into(),
            files: vec![("a.lua".into(), path)],
            stdin: Some(stdin_path),
            args: None,
            env: Vec::new(),
        },
        _dir: dir,
        expected,
        stdin: b"in".to_vec(),
    }
}

fn pack_to_vec(input: &PackInput, to: &EnclaveKeyPublic, owner: &OwnerSecret) -> Vec<u8> {
    let mut out = Vec::new();
    pack(input, to, owner, &mut out, &mut |_, _| {}).unwrap();
    out
}

fn sample_result() -> RunResult {
    let mut files = BTreeMap::new();
    files.insert("out/report.txt".to_owned(), b"report".to_vec());
    files.insert("empty".to_owned(), Vec::new());
    files.insert("big".to_owned(), pseudo_random(CHUNK + 1, 2));
    RunResult {
        exit_status: 3,
        error: Some("instruction limit reached".into()),
        stdout: b"out".to_vec(),
        stderr: b"err".to_vec(),
        files,
        args: vec!["a".into(), String::new(), "b c \u{e9}".into()],
    }
}

/// Rebuilds a container with `header` and `payload`, signed over them by `sign`.
fn rebuild(
    magic: &[u8; 8],
    label: &[u8],
    header: &[u8],
    payload: &[u8],
    sign: impl Fn(&[u8]) -> [u8; 64],
) -> Vec<u8> {
    let mut out = Vec::new();
    write_prefix(&mut out, magic, header, payload.len() as u64).unwrap();
    out.extend_from_slice(payload);
    let msg = signed_message(
        label,
        &Sha256::digest(header).into(),
        &Sha256::digest(payload).into(),
    );
    out.extend_from_slice(&sign(&msg));
    out
}

fn open_bundle(bytes: &[u8], key: &EnclaveKeyPair) -> Result<BundleContents> {
    verify_bundle(bytes)?.open(key, MAX)
}

// ------------------------------------------------------------ round trips

#[test]
fn round_trip() {
    let f = fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let mut calls = Vec::new();
    let mut bundle = Vec::new();
    pack(
        &f.input,
        &enclave.public(),
        &owner,
        &mut bundle,
        &mut |done, total| calls.push((done, total)),
    )
    .unwrap();
    assert_eq!(bundle_total_bytes(&f.input).unwrap(), bundle.len() as u64);
    let data: u64 = f.expected.values().map(|v| v.len() as u64).sum::<u64>() + f.stdin.len() as u64;
    assert!(calls.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(calls.iter().all(|&(d, t)| t == 2 * data && d <= t));
    assert_eq!(calls.last(), Some(&(2 * data, 2 * data)));

    let verified = verify_bundle(&bundle).unwrap();
    assert_eq!(verified.header.owner, owner.public());
    assert_eq!(verified.header.recipient, enclave.public().fingerprint());
    assert_eq!(verified.header.policy, policy());
    assert_eq!(verified.header.language, Language::Lua);
    let contents = verified.open(&enclave, MAX).unwrap();
    assert_eq!(contents.entry, "main.lua");
    assert_eq!(contents.files, f.expected);
    assert_eq!(contents.stdin, f.stdin);
    assert_eq!(contents.args, f.input.args);
    assert_eq!(contents.env, f.input.env);

    let result = sample_result();
    let sealed = seal_result(&verified, &enclave, &result).unwrap();
    let opened = open_result(&sealed, &owner, MAX).unwrap();
    assert_eq!(opened.result, result);
    assert_eq!(opened.bundle_digest, verified.digest());
    assert_eq!(opened.enclave, enclave.public());
    assert_eq!(opened.bundle_header, verified.header);
}

#[test]
fn round_trip_without_stdin_and_empty_result() {
    let mut f = small_fixture();
    f.input.stdin = None;
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    let contents = verified.open(&enclave, MAX).unwrap();
    assert!(contents.stdin.is_empty());
    let sealed = seal_result(&verified, &enclave, &RunResult::default()).unwrap();
    let opened = open_result(&sealed, &owner, MAX).unwrap();
    assert_eq!(opened.result, RunResult::default());
}

#[test]
fn plaintext_limits_are_enforced() {
    let f = fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    assert!(matches!(
        verified.open(&enclave, 1000),
        Err(Error::TooLarge { .. })
    ));
    let sealed = seal_result(&verified, &enclave, &sample_result()).unwrap();
    assert!(matches!(
        open_result(&sealed, &owner, 1000),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn chunk_boundaries() {
    let enclave = EnclaveKeyPair::generate();
    let recipient = enclave.public().encryption;
    for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 7] {
        let plain = pseudo_random(len, 9);
        let (ctx, enc) = chunked::setup_sender(&recipient, b"test").unwrap();
        let mut out = Vec::new();
        let mut sealer = chunked::Sealer::new(ctx, [5; 32], len as u64, &mut out);
        // Feed in odd pieces.
        for piece in plain.chunks(1000) {
            sealer.write(piece).unwrap();
        }
        let hash = sealer.finish().unwrap();
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(&out)));
        assert_eq!(chunked::payload_len(len as u64), Some(out.len() as u64));
        let opened =
            chunked::open(enclave.encryption_key(), &enc, b"test", &[5; 32], &out, MAX).unwrap();
        assert_eq!(&opened[..], &plain[..], "len {len}");
        // A different header hash refuses.
        assert!(
            chunked::open(enclave.encryption_key(), &enc, b"test", &[6; 32], &out, MAX).is_err()
        );
        // Dropping whole trailing chunks refuses (the last flag).
        if out.len() > CHUNK + TAG {
            let cut = &out[..CHUNK + TAG];
            assert!(matches!(
                chunked::open(enclave.encryption_key(), &enc, b"test", &[5; 32], cut, MAX),
                Err(Error::Decrypt)
            ));
        }
    }
}

#[test]
fn sealer_refuses_wrong_lengths() {
    let enclave = EnclaveKeyPair::generate();
    let (ctx, _) = chunked::setup_sender(&enclave.public().encryption, b"t").unwrap();
    let mut out = Vec::new();
    let mut sealer = chunked::Sealer::new(ctx, [0; 32], 3, &mut out);
    assert!(sealer.write(b"abcd").is_err());
    sealer.write(b"ab").unwrap();
    assert!(sealer.finish().is_err());
}

// ------------------------------------------------------------ tampering

#[test]
fn every_bundle_byte_flip_is_refused() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    assert_eq!(open_bundle(&bundle, &enclave).unwrap().files, f.expected);
    for i in 0..bundle.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = bundle.clone();
            b[i] ^= mask;
            assert!(
                open_bundle(&b, &enclave).is_err(),
                "flip {mask:#x} at {i} accepted"
            );
        }
    }
}

#[test]
fn every_bundle_truncation_is_refused() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    for len in 0..bundle.len() {
        assert!(verify_bundle(&bundle[..len]).is_err(), "length {len}");
    }
    let mut longer = bundle.clone();
    longer.push(0);
    assert!(verify_bundle(&longer).is_err());
}

#[test]
fn every_result_byte_flip_and_truncation_is_refused() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    let result = RunResult {
        exit_status: 0,
        error: None,
        stdout: b"ok".to_vec(),
        stderr: Vec::new(),
        files: BTreeMap::from([("o".to_owned(), b"1".to_vec())]),
        args: vec!["x".into()],
    };
    let sealed = seal_result(&verified, &enclave, &result).unwrap();
    assert_eq!(open_result(&sealed, &owner, MAX).unwrap().result, result);
    for i in 0..sealed.len() {
        for mask in [0x01u8, 0x80] {
            let mut b = sealed.clone();
            b[i] ^= mask;
            assert!(
                open_result(&b, &owner, MAX).is_err(),
                "flip {mask:#x} at {i} accepted"
            );
        }
    }
    for len in 0..sealed.len() {
        assert!(
            open_result(&sealed[..len], &owner, MAX).is_err(),
            "length {len}"
        );
    }
}

#[test]
fn resigned_by_another_owner_fails_to_decrypt() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let thief = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let c = parse_container(&bundle, BUNDLE_MAGIC, MAX_BUNDLE_HEADER, "bundle").unwrap();
    let mut header = parse_header(c.header).unwrap();
    header.owner = thief.public();
    let header_bytes = serde_json::to_vec(&header).unwrap();
    let forged = rebuild(
        BUNDLE_MAGIC,
        BUNDLE_SIG_LABEL,
        &header_bytes,
        c.payload,
        |m| thief.sign(m),
    );
    // The signature is the thief's and is valid...
    let verified = verify_bundle(&forged).unwrap();
    assert_eq!(verified.header.owner, thief.public());
    // ...but the payload is bound to the original header.
    assert!(matches!(verified.open(&enclave, MAX), Err(Error::Decrypt)));
}

#[test]
fn same_header_other_bytes_fails_to_decrypt() {
    // Re-serializing the header differently (pretty JSON) changes its hash.
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let c = parse_container(&bundle, BUNDLE_MAGIC, MAX_BUNDLE_HEADER, "bundle").unwrap();
    let header = parse_header(c.header).unwrap();
    let pretty = serde_json::to_vec_pretty(&header).unwrap();
    let forged = rebuild(BUNDLE_MAGIC, BUNDLE_SIG_LABEL, &pretty, c.payload, |m| {
        owner.sign(m)
    });
    let verified = verify_bundle(&forged).unwrap();
    assert!(matches!(verified.open(&enclave, MAX), Err(Error::Decrypt)));
}

#[test]
fn reordered_or_truncated_chunks_fail_even_when_resigned() {
    let f = fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let c = parse_container(&bundle, BUNDLE_MAGIC, MAX_BUNDLE_HEADER, "bundle").unwrap();
    let full = CHUNK + TAG;
    assert!(c.payload.len() > 3 * full);
    let mut swapped = c.payload.to_vec();
    swapped[..full].copy_from_slice(&c.payload[full..2 * full]);
    swapped[full..2 * full].copy_from_slice(&c.payload[..full]);
    let truncated = &c.payload[..2 * full];
    for payload in [&swapped[..], truncated] {
        let forged = rebuild(BUNDLE_MAGIC, BUNDLE_SIG_LABEL, c.header, payload, |m| {
            owner.sign(m)
        });
        let verified = verify_bundle(&forged).unwrap();
        assert!(matches!(verified.open(&enclave, MAX), Err(Error::Decrypt)));
    }
}

#[test]
fn wrong_recipient() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let other = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    assert!(matches!(
        verified.open(&other, MAX),
        Err(Error::WrongRecipient)
    ));
    assert!(matches!(
        seal_result(&verified, &other, &RunResult::default()),
        Err(Error::WrongRecipient)
    ));
    // Readdressing the header to the other key does not help it decrypt.
    let c = parse_container(&bundle, BUNDLE_MAGIC, MAX_BUNDLE_HEADER, "bundle").unwrap();
    let mut header = parse_header(c.header).unwrap();
    header.recipient = other.public().fingerprint();
    let header_bytes = serde_json::to_vec(&header).unwrap();
    let forged = rebuild(
        BUNDLE_MAGIC,
        BUNDLE_SIG_LABEL,
        &header_bytes,
        c.payload,
        |m| owner.sign(m),
    );
    assert!(matches!(
        verify_bundle(&forged).unwrap().open(&other, MAX),
        Err(Error::Decrypt)
    ));
}

#[test]
fn result_for_another_owner_is_refused() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let other = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    let sealed = seal_result(&verified, &enclave, &sample_result()).unwrap();
    assert!(matches!(
        open_result(&sealed, &other, MAX),
        Err(Error::WrongOwner)
    ));
}

#[test]
fn result_signed_by_another_enclave_key_is_refused() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let rogue = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    let sealed = seal_result(&verified, &enclave, &sample_result()).unwrap();
    let c = parse_container(&sealed, RESULT_MAGIC, MAX_RESULT_HEADER, "result").unwrap();
    let mut header: ResultHeader = serde_json::from_slice(c.header).unwrap();

    // Same header, re-signed by the rogue key: bad signature.
    let forged = rebuild(
        RESULT_MAGIC,
        b"shield result v1\0",
        c.header,
        c.payload,
        |m| rogue.sign(m),
    );
    assert!(matches!(
        open_result(&forged, &owner, MAX),
        Err(Error::BadSignature(_))
    ));

    // Header naming the rogue key, signed by it: not the bundle's recipient.
    header.enclave = rogue.public();
    let header_bytes = serde_json::to_vec(&header).unwrap();
    let forged = rebuild(
        RESULT_MAGIC,
        b"shield result v1\0",
        &header_bytes,
        c.payload,
        |m| rogue.sign(m),
    );
    assert!(matches!(
        open_result(&forged, &owner, MAX),
        Err(Error::UnexpectedSigner)
    ));
}

#[test]
fn result_with_forged_bundle_header_is_refused() {
    // An enclave key the owner never addressed claims a bundle header naming it.
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let rogue = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    let sealed = seal_result(&verified, &enclave, &sample_result()).unwrap();
    let c = parse_container(&sealed, RESULT_MAGIC, MAX_RESULT_HEADER, "result").unwrap();
    let mut header: ResultHeader = serde_json::from_slice(c.header).unwrap();
    let mut bundle_header = parse_header(&header.bundle_header).unwrap();
    bundle_header.recipient = rogue.public().fingerprint();
    header.bundle_header = serde_json::to_vec(&bundle_header).unwrap();
    header.enclave = rogue.public();
    let header_bytes = serde_json::to_vec(&header).unwrap();
    let forged = rebuild(
        RESULT_MAGIC,
        b"shield result v1\0",
        &header_bytes,
        c.payload,
        |m| rogue.sign(m),
    );
    assert!(matches!(
        open_result(&forged, &owner, MAX),
        Err(Error::BadSignature(_))
    ));
}

// ------------------------------------------------------------ paths

#[test]
fn path_validation() {
    for good in [
        "a",
        "a/b",
        "dir/file.lua",
        ".hidden",
        "a..b",
        "x/...",
        "é/ü",
    ] {
        validate_path(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
    let long = "a".repeat(MAX_PATH_LEN + 1);
    for bad in [
        "",
        "../x",
        "/abs",
        "a/../../b",
        "a/..",
        ".",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "a\\b",
        "a\0b",
        &long,
    ] {
        assert!(
            matches!(validate_path(bad), Err(Error::InvalidPath { .. })),
            "{bad:?} accepted"
        );
    }
    validate_path(&"a".repeat(MAX_PATH_LEN)).unwrap();
}

#[test]
fn pack_refuses_bad_inputs() {
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let check = |mutate: &dyn Fn(&mut PackInput), what: &str| {
        let mut f = small_fixture();
        mutate(&mut f.input);
        let mut out = Vec::new();
        let err = pack(
            &f.input,
            &enclave.public(),
            &owner,
            &mut out,
            &mut |_, _| {},
        );
        assert!(err.is_err(), "{what} accepted");
        assert!(out.is_empty(), "{what}: wrote before refusing");
        assert!(bundle_total_bytes(&f.input).is_err(), "{what} sized");
    };
    for bad in ["../x", "/abs", "a/../../b"] {
        check(&|i| i.files[0].0 = bad.into(), bad);
    }
    check(
        &|i| {
            let dup = i.files[0].clone();
            i.files.push(dup);
        },
        "duplicate",
    );
    check(
        &|i| {
            let mut nested = i.files[0].clone();
            nested.0 = "a.lua/inner".into();
            i.files.push(nested);
        },
        "file and directory",
    );
    check(
        &|i| i.args = Some(vec!["a\0b".into()]),
        "an argument with a NUL",
    );
    check(
        &|i| i.env = vec![("A=B".into(), "c".into())],
        "an environment name with '='",
    );
    check(
        &|i| i.env = vec![(String::new(), "c".into())],
        "an empty name",
    );
    check(
        &|i| i.env = vec![("A".into(), "c\0".into())],
        "an environment value with a NUL",
    );
    check(
        &|i| i.env = vec![("A".into(), "1".into()), ("A".into(), "2".into())],
        "a variable twice",
    );
    check(&|i| i.entry = "missing.lua".into(), "missing entry");
    check(
        &|i| i.files[0].1 = PathBuf::from("/nonexistent/shield"),
        "missing source",
    );
    check(
        &|i| i.files[0].1 = i.files[0].1.parent().unwrap().to_path_buf(),
        "directory as source",
    );
    #[cfg(unix)]
    check(
        &|i| i.stdin = Some(PathBuf::from("/dev/null")),
        "device as stdin",
    );
}

#[test]
fn result_paths_are_validated() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let verified = verify_bundle(&bundle).unwrap();
    let mut result = RunResult::default();
    result.files.insert("../escape".into(), Vec::new());
    assert!(matches!(
        seal_result(&verified, &enclave, &result),
        Err(Error::InvalidPath { .. })
    ));
}

// ------------------------------------------------------------ keys

#[cfg(unix)]
#[test]
fn owner_key_files() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested/owner");
    let owner = OwnerSecret::generate();
    owner.save(&dir).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let key = dir.join(OWNER_KEY_FILE);
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&dir), 0o700);

    let loaded = OwnerSecret::load(&dir).unwrap();
    assert_eq!(loaded.public(), owner.public());
    assert_eq!(*loaded.to_secret_bytes(), *owner.to_secret_bytes());
    assert_eq!(OwnerPublic::load(&dir).unwrap(), owner.public());
    assert_eq!(
        OwnerPublic::load(&dir.join(OWNER_PUB_FILE)).unwrap(),
        owner.public()
    );

    // Never overwrite.
    let other = OwnerSecret::generate();
    assert!(matches!(other.save(&dir), Err(Error::KeyFile { .. })));
    assert_eq!(OwnerSecret::load(&dir).unwrap().public(), owner.public());

    // Refuse a group-readable key.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = OwnerSecret::load(&dir).unwrap_err();
    assert!(matches!(err, Error::KeyFile { .. }));
    assert!(err.to_string().contains("chmod 600"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o604)).unwrap();
    assert!(OwnerSecret::load(&dir).is_err());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    OwnerSecret::load(&dir).unwrap();

    // Refuse a corrupt key.
    std::fs::write(&key, b"short").unwrap();
    assert!(OwnerSecret::load(&dir).is_err());
}

#[test]
fn enclave_secret_round_trip() {
    let k = EnclaveKeyPair::generate();
    let bytes = k.to_secret_bytes();
    assert_eq!(bytes.len(), 73);
    assert_eq!(&bytes[..8], b"SHIELDEK");
    let back = EnclaveKeyPair::from_secret_bytes(&bytes).unwrap();
    assert_eq!(back.public(), k.public());
    let mut bad = bytes.to_vec();
    bad[8] = 2;
    assert!(EnclaveKeyPair::from_secret_bytes(&bad).is_err());
    assert!(EnclaveKeyPair::from_secret_bytes(&bytes[..72]).is_err());
    // An owner key is not an enclave key.
    let owner = OwnerSecret::generate();
    assert!(EnclaveKeyPair::from_secret_bytes(&owner.to_secret_bytes()).is_err());
}

#[test]
fn fingerprints_and_report_data() {
    let k = EnclaveKeyPair::generate().public();
    let other = EnclaveKeyPair::generate().public();
    assert_ne!(k.fingerprint(), other.fingerprint());
    let rd = k.report_data();
    assert_eq!(&rd[32..], &[0u8; 32]);
    assert_ne!(&rd[..32], &k.fingerprint());
    let swapped = EnclaveKeyPublic {
        encryption: k.signing,
        signing: k.encryption,
    };
    assert_ne!(swapped.fingerprint(), k.fingerprint());
    let o = OwnerSecret::generate().public();
    assert_ne!(o.fingerprint(), [0; 32]);
}

#[test]
fn public_keys_serialize_as_hex() {
    let k = EnclaveKeyPair::generate().public();
    let json = serde_json::to_value(k).unwrap();
    assert_eq!(json["encryption"], hex::encode(k.encryption));
    assert_eq!(json["signing"], hex::encode(k.signing));
    let o = OwnerSecret::generate().public();
    let back: OwnerPublic = serde_json::from_str(&o.to_json()).unwrap();
    assert_eq!(back, o);
    assert!(serde_json::from_str::<OwnerPublic>(r#"{"signing":"00","encryption":"00"}"#).is_err());
}

#[test]
fn attested_key_json() {
    let k = EnclaveKeyPair::generate().public();
    let ak = AttestedKey::new(
        Language::Lua,
        k,
        vec![1, 2, 3, 255],
        Some(serde_json::json!({"tcb": "x"})),
    );
    let json = ak.to_json();
    assert!(json.contains("\"quote\": \"AQID/w==\""), "{json}");
    let back = AttestedKey::from_json(&json).unwrap();
    assert_eq!(back.key, k);
    assert_eq!(back.quote, vec![1, 2, 3, 255]);
    assert_eq!(back.language, Language::Lua);
    assert_eq!(back.collateral, ak.collateral);
    let wrong = json.replace(ATTESTED_KEY_FORMAT, "shield-attested-key/2");
    assert!(matches!(
        AttestedKey::from_json(&wrong),
        Err(Error::Malformed(_))
    ));
    let huge = " ".repeat(MAX_ATTESTED_KEY_JSON + 1);
    assert!(matches!(
        AttestedKey::from_json(&huge),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn debug_output_has_no_secrets() {
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    for (debug, secret) in [
        (format!("{owner:?}"), owner.to_secret_bytes()),
        (format!("{enclave:?}"), enclave.to_secret_bytes()),
        (format!("{owner:#?}"), owner.to_secret_bytes()),
    ] {
        for part in [&secret[9..41], &secret[41..73]] {
            assert!(!debug.contains(&hex::encode(part)), "{debug}");
            assert!(!debug.contains(&format!("{part:?}")), "{debug}");
            assert!(!debug.contains(&format!("{:?}", &part[..4])), "{debug}");
        }
        assert!(debug.contains("redacted"));
    }
    let contents = BundleContents {
        entry: "main.lua".into(),
        files: BTreeMap::from([("main.lua".to_owned(), b"TOPSECRET".to_vec())]),
        stdin: b"SECRETSTDIN".to_vec(),
        args: Some(vec!["SECRETARG".into()]),
        env: vec![("SECRETNAME".into(), "SECRETVALUE".into())],
    };
    let debug = format!("{contents:?}");
    assert!(
        !debug.contains("TOPSECRET") && !debug.contains("84, 79, 80"),
        "{debug}"
    );
    assert!(
        !debug.contains("SECRETSTDIN")
            && !debug.contains("SECRETARG")
            && !debug.contains("SECRETNAME")
            && !debug.contains("SECRETVALUE")
            && !debug.contains("83, 69, 67"),
        "{debug}"
    );
    let result = RunResult {
        exit_status: 0,
        error: Some("SECRETERROR".into()),
        stdout: b"TOPSECRET".to_vec(),
        stderr: b"TOPSECRET".to_vec(),
        files: BTreeMap::from([("f".to_owned(), b"TOPSECRET".to_vec())]),
        args: vec!["TOPSECRET".into()],
    };
    let debug = format!("{result:?}");
    assert!(
        !debug.contains("SECRET") && !debug.contains("84, 79, 80"),
        "{debug}"
    );
}

// ------------------------------------------------------------ policy, misc

#[test]
fn policy_checks() {
    let facts = EnclaveFacts {
        mrenclave: [1; 32],
        mrsigner: [2; 32],
        isvprodid: 3,
        isvsvn: 1,
        debug: false,
    };
    let ok = EnclavePolicy {
        mrenclave: vec![[9; 32], [1; 32]],
        mrsigner: Some([2; 32]),
        isvprodid: Some(3),
        min_isvsvn: Some(1),
        allow_debug: false,
    };
    ok.check(&facts).unwrap();
    assert!(EnclavePolicy::default().check(&facts).is_err());

    let bad = EnclavePolicy {
        mrenclave: vec![[9; 32]],
        mrsigner: Some([8; 32]),
        isvprodid: Some(4),
        min_isvsvn: Some(2),
        allow_debug: false,
    };
    let reasons = bad
        .check(&EnclaveFacts {
            debug: true,
            ..facts
        })
        .unwrap_err();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].starts_with("MRENCLAVE 0101"), "{reasons:?}");
    assert!(reasons[0].ends_with("is not in the policy's list"));
    assert!(reasons.contains(&"ISVSVN 1 is below the policy's minimum 2".to_owned()));
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("debug enclave refused"))
    );

    let json = serde_json::to_value(&ok).unwrap();
    assert_eq!(json["mrenclave"][1], hex::encode([1u8; 32]));
    assert_eq!(json["mrsigner"], hex::encode([2u8; 32]));
    let back: EnclavePolicy = serde_json::from_value(json).unwrap();
    assert_eq!(back, ok);
    let minimal: EnclavePolicy =
        serde_json::from_str(&format!(r#"{{"mrsigner":"{}"}}"#, hex::encode([2u8; 32]))).unwrap();
    minimal.check(&facts).unwrap();
}

#[test]
fn language_and_limits() {
    assert_eq!("lua".parse::<Language>().unwrap(), Language::Lua);
    assert_eq!(Language::Lua.as_str(), "lua");
    assert_eq!("py".parse::<Language>().unwrap(), Language::Python);
    let err = "cobol".parse::<Language>().unwrap_err().to_string();
    assert!(err.contains("cobol") && err.contains("lua"), "{err}");
    assert_eq!(serde_json::to_string(&Language::Lua).unwrap(), "\"lua\"");
    let d = Limits::default();
    assert_eq!(d.instructions, Some(20_000_000_000));
    assert_eq!(d.memory_bytes, Some(128 << 20));
    assert_eq!(d.output_bytes, Some(64 << 20));
}

#[test]
fn bundle_digest_is_what_the_owner_signed() {
    let f = small_fixture();
    let owner = OwnerSecret::generate();
    let enclave = EnclaveKeyPair::generate();
    let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
    let v = verify_bundle(&bundle).unwrap();
    let msg = signed_message(
        BUNDLE_SIG_LABEL,
        &Sha256::digest(v.header_bytes()).into(),
        &v.payload_digest(),
    );
    assert_eq!(v.digest(), <[u8; 32]>::from(Sha256::digest(&msg)));
    // Packing twice gives different bundles (fresh HPKE encapsulation).
    let again = pack_to_vec(&f.input, &enclave.public(), &owner);
    assert_ne!(verify_bundle(&again).unwrap().digest(), v.digest());
}

// ------------------------------------------------------------ fuzzing

fn fuzz_keys() -> &'static (OwnerSecret, EnclaveKeyPair, Vec<u8>, Vec<u8>) {
    static KEYS: std::sync::OnceLock<(OwnerSecret, EnclaveKeyPair, Vec<u8>, Vec<u8>)> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        let f = small_fixture();
        let owner = OwnerSecret::generate();
        let enclave = EnclaveKeyPair::generate();
        let bundle = pack_to_vec(&f.input, &enclave.public(), &owner);
        let sealed =
            seal_result(&verify_bundle(&bundle).unwrap(), &enclave, &sample_result()).unwrap();
        (owner, enclave, bundle, sealed)
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (owner, enclave, _, _) = fuzz_keys();
        if let Ok(v) = verify_bundle(&bytes) {
            let _ = v.open(enclave, MAX);
        }
        let _ = open_result(&bytes, owner, MAX);
        let _ = AttestedKey::from_json(&String::from_utf8_lossy(&bytes));
        let _ = EnclaveKeyPair::from_secret_bytes(&bytes);
        let _ = OwnerSecret::from_secret_bytes(&bytes);
    }

    #[test]
    fn random_magic_prefixed_bytes_never_panic(
        header_len in 0u32..64,
        payload_len in any::<u64>(),
        rest in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let (owner, _, _, _) = fuzz_keys();
        for magic in [BUNDLE_MAGIC, RESULT_MAGIC] {
            let mut b = magic.to_vec();
            b.extend_from_slice(&header_len.to_le_bytes());
            b.extend_from_slice(&rest[..rest.len().min(header_len as usize)]);
            b.extend_from_slice(&payload_len.to_le_bytes());
            b.extend_from_slice(&rest);
            prop_assert!(verify_bundle(&b).is_err());
            prop_assert!(open_result(&b, owner, MAX).is_err());
        }
    }

    #[test]
    fn mutated_bundles_and_results_are_refused(
        edits in proptest::collection::vec((any::<usize>(), 1u8..=255), 1..4),
    ) {
        let (owner, enclave, bundle, sealed) = fuzz_keys();
        let mut b = bundle.clone();
        let mut r = sealed.clone();
        for &(pos, mask) in &edits {
            let i = pos % b.len();
            b[i] ^= mask;
            let j = pos % r.len();
            r[j] ^= mask;
        }
        prop_assert!(open_bundle(&b, enclave).is_err());
        prop_assert!(open_result(&r, owner, MAX).is_err());
    }

    #[test]
    fn random_json_documents_never_panic(text in "\\PC{0,300}") {
        let _ = AttestedKey::from_json(&text);
        let _ = serde_json::from_str::<BundleHeader>(&text);
    }
}

#[test]
fn peek_header_reads_the_recipient_without_verifying() {
    let owner = OwnerSecret::generate();
    let key = EnclaveKeyPair::generate();
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.lua");
    std::fs::write(&main, "print(1)").unwrap();
    let input = PackInput {
        language: Language::Lua,
        policy: EnclavePolicy::default(),
        limits: Limits::default(),
        entry: "main.lua".into(),
        files: vec![("main.lua".into(), main)],
        stdin: None,
        args: None,
        env: Vec::new(),
    };
    let mut bundle = Vec::new();
    pack(&input, &key.public(), &owner, &mut bundle, &mut |_, _| {}).unwrap();
    let header = peek_header(&bundle).unwrap();
    assert_eq!(header.recipient, key.public().fingerprint());
    // A broken signature does not stop a peek, but does stop verification.
    let last = bundle.len() - 1;
    bundle[last] ^= 1;
    assert!(peek_header(&bundle).is_ok());
    assert!(verify_bundle(&bundle).is_err());
    assert!(peek_header(&bundle[..20]).is_err());
}
