//! The script languages a bundle can carry.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The language of a bundle's script (serialized as its [`Language::as_str`]
/// name, e.g. `"lua"`). One script enclave per language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Lua 5.4.
    Lua,
    /// JavaScript (ECMAScript, with Node's script idioms).
    Js,
    /// Squirrel 3.2.
    Squirrel,
    /// Python 3.
    Python,
}

impl Language {
    /// Every supported language.
    pub const ALL: &'static [Language] = &[
        Language::Lua,
        Language::Js,
        Language::Squirrel,
        Language::Python,
    ];

    /// The name used in JSON and on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Language::Lua => "lua",
            Language::Js => "js",
            Language::Squirrel => "squirrel",
            Language::Python => "python",
        }
    }

    /// The name people use for it, e.g. "Lua".
    pub fn display_name(&self) -> &'static str {
        match self {
            Language::Lua => "Lua",
            Language::Js => "JavaScript",
            Language::Squirrel => "Squirrel",
            Language::Python => "Python",
        }
    }

    /// Other names accepted on the command line.
    fn aliases(&self) -> &'static [&'static str] {
        match self {
            Language::Lua => &[],
            Language::Js => &["javascript"],
            Language::Squirrel => &[],
            Language::Python => &["py"],
        }
    }

    /// The file extensions of its entry scripts (without the dot).
    pub fn extensions(&self) -> &'static [&'static str] {
        match self {
            Language::Lua => &["lua"],
            Language::Js => &["js", "mjs"],
            Language::Squirrel => &["nut"],
            Language::Python => &["py"],
        }
    }

    /// The language whose entry scripts carry `path`'s extension, if any.
    pub fn of_entry(path: &std::path::Path) -> Option<Language> {
        let extension = path.extension()?.to_str()?;
        Language::ALL
            .iter()
            .copied()
            .find(|l| l.extensions().contains(&extension))
    }
}

/// The names of every supported language, comma-separated.
pub(crate) fn supported_names() -> String {
    let names: Vec<&str> = Language::ALL.iter().map(Language::as_str).collect();
    names.join(", ")
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
            .find(|l| l.as_str() == s || l.aliases().contains(&s))
            .ok_or_else(|| Error::UnknownLanguage(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn names_round_trip_and_entries_name_their_language() {
        for &language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>().unwrap(), language);
            for extension in language.extensions() {
                let entry = format!("dir/main.{extension}");
                assert_eq!(Language::of_entry(Path::new(&entry)), Some(language));
            }
        }
        assert_eq!(Language::of_entry(Path::new("main")), None);
        assert_eq!(Language::of_entry(Path::new("main.txt")), None);
        assert!("cobol".parse::<Language>().is_err());
    }
}
