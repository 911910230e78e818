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

/// An embedded enclave from the variable build.rs set to its binary's path.
macro_rules! embedded {
    ($language:ident, $development:literal, $variable:literal) => {
        EmbeddedEnclave {
            language: shield_bundle::Language::$language,
            development: $development,
            binary: include_bytes!(env!($variable)),
            sigstruct: include_bytes!(concat!(env!($variable), ".sig")),
            config: include_bytes!(concat!(env!($variable), ".toml")),
        }
    };
}

/// The production enclaves: each runs bundles, and refuses development mode.
const PRODUCTION: &[EmbeddedEnclave] = &[
    embedded!(Lua, false, "SHIELD_LUA_ENCLAVE"),
    embedded!(Js, false, "SHIELD_JS_ENCLAVE"),
    embedded!(Squirrel, false, "SHIELD_SQUIRREL_ENCLAVE"),
    embedded!(Python, false, "SHIELD_PYTHON_ENCLAVE"),
];

/// The development enclaves: production's runtime and engine plus
/// `ecall_exec`, signed with DEBUG set.
const DEVELOPMENT: &[EmbeddedEnclave] = &[
    embedded!(Lua, true, "SHIELD_LUA_DEV_ENCLAVE"),
    embedded!(Js, true, "SHIELD_JS_DEV_ENCLAVE"),
    embedded!(Squirrel, true, "SHIELD_SQUIRREL_DEV_ENCLAVE"),
    embedded!(Python, true, "SHIELD_PYTHON_DEV_ENCLAVE"),
];

/// The one of `enclaves` for `language` (each language has one: the
/// tests check it).
fn find(
    enclaves: &'static [EmbeddedEnclave],
    language: shield_bundle::Language,
) -> &'static EmbeddedEnclave {
    enclaves
        .iter()
        .find(|e| e.language == language)
        .expect("every language has its enclaves")
}

/// The enclave for `language`.
pub(crate) fn for_language(language: shield_bundle::Language) -> &'static EmbeddedEnclave {
    find(PRODUCTION, language)
}

/// The development enclave for `language`.
pub(crate) fn development(language: shield_bundle::Language) -> &'static EmbeddedEnclave {
    find(DEVELOPMENT, language)
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

#[cfg(test)]
mod tests {
    use super::*;
    use shield_bundle::Language;

    /// ISVPRODID per language, as enclaves/*/enclave.toml set them.
    fn product_id(language: Language) -> u16 {
        match language {
            Language::Lua => 1,
            Language::Js => 2,
            Language::Squirrel => 3,
            Language::Python => 4,
        }
    }

    #[test]
    fn every_language_has_a_production_and_a_development_enclave() {
        for &language in Language::ALL {
            let production = for_language(language);
            let development = development(language);
            assert!(!production.development && development.development);
            assert_ne!(
                production.mrenclave().unwrap(),
                development.mrenclave().unwrap()
            );
            for (enclave, debug) in [(production, false), (development, true)] {
                let sigstruct = shield_sgx::sigstruct::parse(enclave.sigstruct).unwrap();
                assert_eq!(sigstruct.isvprodid, product_id(language), "{language}");
                let flags = sigstruct.attributes.flags;
                assert_eq!(
                    flags.contains(shield_sgx::isa::AttributesFlags::DEBUG),
                    debug,
                    "{language}"
                );
            }
        }
    }
}
