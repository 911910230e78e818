//! Intel's `Enclave.config.xml`, imported into an [`EnclaveConfig`], so an
//! SDK project's settings carry over.
//!
//! Read: `ProdID`, `ISVSVN`, `TCSNum`, `HeapMaxSize`, `StackMaxSize`,
//! `DisableDebug`. Other known elements (`TCSPolicy`, `MiscSelect`,
//! `MiscMask`, `HeapMinSize`, `HeapInitSize`, `StackMinSize`, `TCSMaxNum`,
//! `TCSMinPool`, `EnableKSS`, …) are accepted and ignored: they shape the
//! SDK's EDMM behaviour, which the simulation does not model.

use shield_sgx::config::EnclaveConfig;

use crate::{Error, Result};

/// Largest config file accepted (they are a few hundred bytes).
const MAX_XML: usize = 64 * 1024;

/// Parses an `Enclave.config.xml` document.
pub fn config_from_intel_xml(text: &str) -> Result<EnclaveConfig> {
    let refuse = |why: String| Error::Refused(format!("Enclave.config.xml: {why}"));
    if text.len() > MAX_XML {
        return Err(refuse(format!(
            "{} bytes is too large for a config",
            text.len()
        )));
    }
    let doc = roxmltree::Document::parse(text).map_err(|e| refuse(e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "EnclaveConfiguration" {
        return Err(refuse(format!(
            "root element is <{}>, expected <EnclaveConfiguration>",
            root.tag_name().name()
        )));
    }
    let mut config = EnclaveConfig::default();
    for element in root.children().filter(|n| n.is_element()) {
        let name = element.tag_name().name();
        let text = element.text().unwrap_or("").trim();
        let number = || {
            parse_number(text).ok_or_else(|| refuse(format!("<{name}> {text:?} is not a number")))
        };
        let narrow = |value: u64, max: u64| {
            if value <= max {
                Ok(value)
            } else {
                Err(refuse(format!("<{name}> {value} is above {max}")))
            }
        };
        match name {
            "ProdID" => config.isv_prod_id = narrow(number()?, u16::MAX.into())? as u16,
            "ISVSVN" => config.isv_svn = narrow(number()?, u16::MAX.into())? as u16,
            "TCSNum" => config.tcs_count = narrow(number()?, u32::MAX.into())? as u32,
            "HeapMaxSize" => config.heap_max = number()?,
            "StackMaxSize" => config.stack_size = number()?,
            "DisableDebug" => config.debug = number()? == 0,
            _ => {}
        }
    }
    config.validate()?;
    Ok(config)
}

fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_sdk_sample_shape() {
        let xml = r#"<EnclaveConfiguration>
  <ProdID>3</ProdID>
  <ISVSVN>2</ISVSVN>
  <StackMaxSize>0x40000</StackMaxSize>
  <HeapMaxSize>0x100000</HeapMaxSize>
  <TCSNum>10</TCSNum>
  <TCSPolicy>1</TCSPolicy>
  <DisableDebug>0</DisableDebug>
  <MiscSelect>0</MiscSelect>
  <MiscMask>0xFFFFFFFF</MiscMask>
</EnclaveConfiguration>"#;
        let config = config_from_intel_xml(xml).unwrap();
        assert_eq!(
            (config.isv_prod_id, config.isv_svn, config.tcs_count),
            (3, 2, 10)
        );
        assert_eq!(
            (config.heap_max, config.stack_size, config.debug),
            (0x100000, 0x40000, true)
        );
        let production = xml.replace("<DisableDebug>0", "<DisableDebug>1");
        assert!(!config_from_intel_xml(&production).unwrap().debug);
    }

    #[test]
    fn refuses_bad_documents_with_reasons() {
        for (xml, needle) in [
            ("<Enclave/>", "root element"),
            (
                "<EnclaveConfiguration><ProdID>x</ProdID></EnclaveConfiguration>",
                "not a number",
            ),
            (
                "<EnclaveConfiguration><ProdID>70000</ProdID></EnclaveConfiguration>",
                "above",
            ),
            (
                "<EnclaveConfiguration><TCSNum>0</TCSNum></EnclaveConfiguration>",
                "tcs_count",
            ),
            ("<EnclaveConfiguration>", "XML"),
        ] {
            let err = config_from_intel_xml(xml).unwrap_err().to_string();
            assert!(
                err.contains(needle) || err.to_lowercase().contains(&needle.to_lowercase()),
                "{xml}: {err}"
            );
        }
    }
}
