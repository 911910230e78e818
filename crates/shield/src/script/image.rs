//! The script enclaves this `shield` carries: built and signed with the
//! repository's enclave key by build.rs, embedded in the binary, and
//! unpacked into the state directory when first launched (so an installed
//! `shield` needs no build tree).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One embedded, signed enclave.
pub(crate) struct EmbeddedEnclave {
    pub(crate) language: shield_bundle::Language,
    /// The development build (`shield exec`), signed with DEBUG set.
    pub(crate) development: bool,
    binary: &'static [u8],
    sigstruct: &'static [u8],
    config: &'static [u8],
}

pub(crate) const LUA: EmbeddedEnclave = EmbeddedEnclave {
    language: shield_bundle::Language::Lua,
    development: false,
    binary: include_bytes!(env!("SHIELD_LUA_ENCLAVE")),
    sigstruct: include_bytes!(concat!(env!("SHIELD_LUA_ENCLAVE"), ".sig")),
    config: include_bytes!(concat!(env!("SHIELD_LUA_ENCLAVE"), ".toml")),
};

/// The Lua development enclave: production's runtime and engine plus
/// `ecall_exec`, which the production enclave refuses.
pub(crate) const LUA_DEV: EmbeddedEnclave = EmbeddedEnclave {
    language: shield_bundle::Language::Lua,
    development: true,
    binary: include_bytes!(env!("SHIELD_LUA_DEV_ENCLAVE")),
    sigstruct: include_bytes!(concat!(env!("SHIELD_LUA_DEV_ENCLAVE"), ".sig")),
    config: include_bytes!(concat!(env!("SHIELD_LUA_DEV_ENCLAVE"), ".toml")),
};

/// The enclave for `language`.
pub(crate) fn for_language(language: shield_bundle::Language) -> &'static EmbeddedEnclave {
    match language {
        shield_bundle::Language::Lua => &LUA,
    }
}

/// The development enclave for `language`.
pub(crate) fn development(language: shield_bundle::Language) -> &'static EmbeddedEnclave {
    match language {
        shield_bundle::Language::Lua => &LUA_DEV,
    }
}

impl EmbeddedEnclave {
    /// Its MRENCLAVE, as signed.
    pub(crate) fn mrenclave(&self) -> Result<[u8; 32]> {
        let sigstruct = shield_sgx::sigstruct::parse(self.sigstruct)
            .context("the embedded SIGSTRUCT does not parse")?;
        Ok(sigstruct.enclavehash)
    }

    /// The binary's path under `state`, written there if missing or different.
    pub(crate) fn unpack(&self, state: &Path) -> Result<PathBuf> {
        // Named by MRENCLAVE: another build gets another directory.
        let dir = super::state::private_dir(&state.join("enclaves").join(format!(
            "{}{}-{}",
            self.language.as_str(),
            if self.development { "-dev" } else { "" },
            &shield_sgx::hex(&self.mrenclave()?)[..16]
        )))?;
        let binary = dir.join("enclave");
        for (path, bytes) in [
            (binary.clone(), self.binary),
            (dir.join("enclave.sig"), self.sigstruct),
            (dir.join("enclave.toml"), self.config),
        ] {
            // Write then rename: a concurrent launch never sees half a file.
            if std::fs::read(&path).ok().as_deref() != Some(bytes) {
                super::ops::write_whole(&path, bytes, true)?;
            }
        }
        Ok(binary)
    }
}
