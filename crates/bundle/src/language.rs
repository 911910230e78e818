//! The script languages a bundle can carry.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The language of a bundle's script (serialized as `"lua"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Lua 5.4.
    Lua,
}

impl Language {
    /// Every supported language.
    pub const ALL: &'static [Language] = &[Language::Lua];

    /// The name used in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Language::Lua => "lua",
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Language::ALL
            .iter()
            .copied()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| Error::UnknownLanguage(s.to_owned()))
    }
}
