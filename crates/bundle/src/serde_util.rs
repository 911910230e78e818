//! Serde helpers: 32-byte values as lowercase hex, byte strings as base64.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serializer, de::Error as _};

pub(crate) fn from_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// `[u8; 32]` as 64 hex digits.
pub(crate) mod hex32 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        from_hex32(&s).ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

/// `Option<[u8; 32]>` as hex or null.
pub(crate) mod hex32_opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &Option<[u8; 32]>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&hex::encode(v)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<[u8; 32]>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => from_hex32(&s)
                .map(Some)
                .ok_or_else(|| D::Error::custom("expected 64 hex digits")),
        }
    }
}

/// `Vec<[u8; 32]>` as a list of hex strings.
pub(crate) mod hex32_vec {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(crate) fn serialize<S: Serializer>(v: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for item in v {
            seq.serialize_element(&hex::encode(item))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        list.iter()
            .map(|s| from_hex32(s).ok_or_else(|| D::Error::custom("expected 64 hex digits")))
            .collect()
    }
}

/// `[u8; 64]` (signatures) as 128 hex digits.
pub(crate) mod hex64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s = String::deserialize(d)?;
        let mut out = [0u8; 64];
        if s.len() != 128 || hex::decode_to_slice(&s, &mut out).is_err() {
            return Err(D::Error::custom("expected 128 hex digits"));
        }
        Ok(out)
    }
}

/// `Vec<u8>` as standard base64 (with padding).
pub(crate) mod b64 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s.as_bytes())
            .map_err(|_| D::Error::custom("invalid base64"))
    }
}
