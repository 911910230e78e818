//! Loading an enclave: binary + config + SIGSTRUCT → a checked identity, as
//! ECREATE/EADD/EEXTEND/EINIT would produce it.

use std::path::{Path, PathBuf};

use shield_sgx::config::EnclaveConfig;
use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags};
use shield_sgx::{shield_layout, sigstruct};

use crate::{Error, Result};

/// Whether the enclave is launched as a debug or a production enclave.
/// SIGSTRUCTs made by `shield sign` bind the DEBUG bit, so each enclave
/// launches only in the mode it was signed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LaunchMode {
    /// DEBUG clear (the default).
    #[default]
    Production,
    /// DEBUG set.
    Debug,
}

/// A measured, signature-checked enclave, ready to launch.
#[derive(Debug)]
pub struct EnclaveImage {
    /// The exact bytes that were measured; the launcher executes these.
    pub(crate) binary: Vec<u8>,
    /// Where the binary came from (for messages).
    pub path: PathBuf,
    /// The layout and identity parameters.
    pub config: EnclaveConfig,
    /// What EINIT recorded.
    pub identity: EnclaveIdentity,
}

impl EnclaveImage {
    /// Loads `binary` with its `config` (TOML or Intel XML; defaults if
    /// `None`) and `sigstruct` file, and checks it as EINIT would.
    pub fn load(
        binary: &Path,
        config: Option<&Path>,
        sigstruct_path: &Path,
        mode: LaunchMode,
    ) -> Result<Self> {
        let bytes = read(binary)?;
        let config = match config {
            None => EnclaveConfig::default(),
            Some(path) => {
                let text = String::from_utf8(read(path)?)
                    .map_err(|_| Error::Refused(format!("{} is not UTF-8", path.display())))?;
                if path.extension().is_some_and(|e| e == "xml") {
                    crate::config_from_intel_xml(&text)?
                } else {
                    EnclaveConfig::from_toml(&text)?
                }
            }
        };
        let mrenclave = shield_layout::layout(&bytes, &config)?.measure()?;
        let signature = sigstruct::parse(&read(sigstruct_path)?)?;
        let mut flags = signature.attributes.flags - AttributesFlags::DEBUG;
        if mode == LaunchMode::Debug {
            flags |= AttributesFlags::DEBUG;
        }
        let requested = Attributes {
            flags,
            xfrm: signature.attributes.xfrm,
        };
        let identity = EnclaveIdentity::einit(
            mrenclave,
            requested,
            signature.miscselect.bits(),
            &signature,
        )
        .map_err(|e| match (mode, e) {
            (LaunchMode::Production, shield_sgx::Error::Sigstruct(m))
                if signature.attributes.flags.contains(AttributesFlags::DEBUG) =>
            {
                Error::Refused(format!(
                    "a debug enclave cannot be launched in production mode ({m})"
                ))
            }
            (_, e) => Error::Refused(format!("{}: {e}", binary.display())),
        })?;
        Ok(Self {
            binary: bytes,
            path: binary.to_owned(),
            config,
            identity,
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}
