//! An enclave's configuration: the layout parameters that go into MRENCLAVE
//! (heap, stacks, TCS count) and the identity fields that go into SIGSTRUCT
//! (ISVPRODID, ISVSVN, debug). Read from TOML, every field optional:
//!
//! ```toml
//! heap_max = "64M"     # bytes; K, M, G suffixes and 0x… accepted
//! stack_size = "1M"    # per TCS
//! tcs_count = 2
//! isv_prod_id = 1
//! isv_svn = 3
//! debug = false
//! ```

use serde::{Deserialize, Deserializer};

use crate::{Error, Result};

/// The largest heap a layout may declare. Bounded so that an enclave config
/// (a file from anywhere) cannot make the layout allocate without limit.
pub const MAX_HEAP: u64 = 4 << 30;
/// The largest stack per TCS.
pub const MAX_STACK: u64 = 256 << 20;
/// The most TCSs (concurrent ECALLs) an enclave may have.
pub const MAX_TCS: u32 = 256;

/// Layout and identity parameters of an enclave.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EnclaveConfig {
    /// Most bytes the enclave's heap may grow to.
    #[serde(deserialize_with = "size")]
    pub heap_max: u64,
    /// Stack bytes per TCS.
    #[serde(deserialize_with = "size")]
    pub stack_size: u64,
    /// Thread control structures: how many ECALLs may run at once.
    pub tcs_count: u32,
    /// ISVPRODID: tells apart products of one signer.
    pub isv_prod_id: u16,
    /// ISVSVN: the security version; sealing across versions depends on it.
    pub isv_svn: u16,
    /// Whether the enclave is signed as a debug enclave.
    pub debug: bool,
}

impl Default for EnclaveConfig {
    fn default() -> Self {
        Self {
            heap_max: 64 << 20,
            stack_size: 1 << 20,
            tcs_count: 2,
            isv_prod_id: 0,
            isv_svn: 0,
            debug: false,
        }
    }
}

impl EnclaveConfig {
    /// Parses and validates a TOML config.
    pub fn from_toml(text: &str) -> Result<Self> {
        let config: Self = toml::from_str(text).map_err(|e| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks that every field is in range.
    pub fn validate(&self) -> Result<()> {
        let page_multiple = |name: &str, value: u64, max: u64| {
            if value == 0 || !value.is_multiple_of(4096) || value > max {
                Err(Error::Config(format!(
                    "{name} = {value:#x}: must be a non-zero multiple of 4096 and at most {max:#x}"
                )))
            } else {
                Ok(())
            }
        };
        page_multiple("heap_max", self.heap_max, MAX_HEAP)?;
        page_multiple("stack_size", self.stack_size, MAX_STACK)?;
        if self.tcs_count == 0 || self.tcs_count > MAX_TCS {
            return Err(Error::Config(format!(
                "tcs_count = {}: must be between 1 and {MAX_TCS}",
                self.tcs_count
            )));
        }
        Ok(())
    }
}

/// A byte size: an integer, or a string with an optional `0x` prefix or a
/// `K`/`M`/`G` suffix (powers of 1024).
fn size<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(deserializer)? {
        Size::Number(n) => Ok(n),
        Size::Text(text) => parse_size(&text).map_err(serde::de::Error::custom),
    }
}

/// Parses `"64M"`, `"0x100000"`, `"4096"`.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let bad = || format!("{text:?} is not a size (examples: 4096, 0x1000, 64K, 16M, 1G)");
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).map_err(|_| bad());
    }
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        _ => (text, 0),
    };
    let value: u64 = digits.trim().parse().map_err(|_| bad())?;
    value.checked_mul(1 << shift).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes() {
        assert_eq!(super::parse_size("64M"), Ok(64 << 20));
        assert_eq!(super::parse_size("1g"), Ok(1 << 30));
        assert_eq!(super::parse_size("4096"), Ok(4096));
        assert_eq!(super::parse_size("0x1000"), Ok(4096));
        assert!(super::parse_size("12Q").is_err());
        assert!(super::parse_size("").is_err());
        assert!(super::parse_size("99999999999G").is_err());
    }
}
