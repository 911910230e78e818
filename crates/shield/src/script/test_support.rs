//! What the in-crate tests of script enclaves share: an attested enclave
//! key made by the real Lua enclave, an owner, and bundles packed for them.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use shield_bundle::{AttestedKey, Language, OwnerSecret, PackInput};

use super::host::ScriptHost;
use super::{image, ops};

/// A state directory with the Lua enclave's key, and an owner.
pub(super) struct Keys {
    pub(super) dir: tempfile::TempDir,
    /// The production Lua enclave, unpacked.
    pub(super) binary: PathBuf,
    /// The enclave's sealed private key, as `shield run` passes it.
    pub(super) sealed: Vec<u8>,
    pub(super) owner: OwnerSecret,
    attested: AttestedKey,
}

impl Keys {
    pub(super) fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let made = ops::make_enclave_key(Language::Lua, &state).unwrap();
        Keys {
            binary: image::for_language(Language::Lua).unpack(&state).unwrap(),
            sealed: std::fs::read(&made.sealed_path).unwrap(),
            owner: OwnerSecret::generate(),
            attested: made.attested,
            dir,
        }
    }

    /// Packs `files` (name, text; the first is the entry) from a project
    /// directory `name` into `name/app.shield`, with the default policy and
    /// limits.
    pub(super) fn bundle(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let project = self.dir.path().join(name);
        std::fs::create_dir_all(&project).unwrap();
        for (file, text) in files {
            std::fs::write(project.join(file), text).unwrap();
        }
        let policy = ops::complete_policy(None, Language::Lua).unwrap();
        let input = PackInput {
            language: Language::Lua,
            policy: ops::enclave_policy(&policy),
            limits: shield_bundle::Limits::default(),
            entry: files[0].0.to_owned(),
            files: files
                .iter()
                .map(|(file, _)| ((*file).to_owned(), project.join(file)))
                .collect(),
            stdin: None,
            args: None,
        };
        let out = project.join("app.shield");
        ops::write_bundle(&input, &self.attested.key, &self.owner, &out).unwrap();
        out
    }

    /// A fresh directory under the keys' own.
    pub(super) fn workdir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

/// The length of `path`'s bundle, as `ecall_run_bundle` takes it.
pub(super) fn bundle_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// An honest host for one run of `bundle`: nodes under `work`, the result
/// in `work/app.result` (its path is returned too).
pub(super) fn bundle_host(bundle: &Path, work: &Path) -> (ScriptHost, PathBuf) {
    let result = work.join("app.result");
    let host = ScriptHost {
        bundle: Some(std::fs::read(bundle).unwrap()),
        result: Some(Mutex::new(File::create(&result).unwrap())),
        nodes: Some(work.to_owned()),
        started: Some(Instant::now()),
        ..ScriptHost::default()
    };
    (host, result)
}
