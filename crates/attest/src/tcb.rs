//! TCB info and QE identity collateral (the JSON Intel's PCS serves) and TCB
//! level matching, following Intel's quote verification library.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::pki::PckExtensions;
use crate::quote::{EnclaveReport, TdReport};

/// The TCB status of a platform, as Intel's collateral names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TcbStatus {
    /// The platform is patched to the latest TCB.
    UpToDate,
    /// Patched, but software hardening (see the advisories) is needed in the enclave.
    SWHardeningNeeded,
    /// Patched, but the platform configuration needs changes (see the advisories).
    ConfigurationNeeded,
    /// Both configuration changes and software hardening are needed.
    ConfigurationAndSWHardeningNeeded,
    /// The platform TCB is out of date.
    OutOfDate,
    /// Out of date, and configuration changes are needed.
    OutOfDateConfigurationNeeded,
    /// The platform's keys are revoked: never trust it.
    Revoked,
    /// Only signatures and the PCK chain were checked (no collateral given).
    TcbNotChecked,
}

impl TcbStatus {
    /// All statuses, for parsing and help texts.
    pub const ALL: [TcbStatus; 8] = [
        TcbStatus::UpToDate,
        TcbStatus::SWHardeningNeeded,
        TcbStatus::ConfigurationNeeded,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
        TcbStatus::OutOfDate,
        TcbStatus::OutOfDateConfigurationNeeded,
        TcbStatus::Revoked,
        TcbStatus::TcbNotChecked,
    ];

    /// The name as it appears in Intel's collateral.
    pub fn as_str(self) -> &'static str {
        match self {
            TcbStatus::UpToDate => "UpToDate",
            TcbStatus::SWHardeningNeeded => "SWHardeningNeeded",
            TcbStatus::ConfigurationNeeded => "ConfigurationNeeded",
            TcbStatus::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            TcbStatus::OutOfDate => "OutOfDate",
            TcbStatus::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            TcbStatus::Revoked => "Revoked",
            TcbStatus::TcbNotChecked => "TcbNotChecked",
        }
    }

    /// Converges a platform status with a component's (QE or TDX module)
    /// status, as Intel's QVL does.
    pub fn converge(self, component: TcbStatus) -> TcbStatus {
        use TcbStatus::*;
        match (component, self) {
            (Revoked, _) | (_, Revoked) => Revoked,
            (OutOfDate, UpToDate | SWHardeningNeeded) => OutOfDate,
            (OutOfDate, ConfigurationNeeded | ConfigurationAndSWHardeningNeeded) => {
                OutOfDateConfigurationNeeded
            }
            _ => self,
        }
    }
}

impl fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TcbStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        TcbStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::collateral(format!("unknown TCB status {s:?}")))
    }
}

/// One TCB level of a TCB info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbLevel {
    /// The 16 SGX TCB component SVNs.
    pub sgx_components: [u8; 16],
    /// The PCE SVN.
    pub pce_svn: u16,
    /// TDX only: the 16 TDX TCB component SVNs.
    pub tdx_components: Option<[u8; 16]>,
    /// Its status.
    pub status: TcbStatus,
    /// The date of the TCB level (RFC 3339).
    pub tcb_date: String,
    /// Security advisory IDs.
    pub advisory_ids: Vec<String>,
}

/// A TDX module identity of a TDX TCB info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdxModuleIdentity {
    /// e.g. `TDX_01`.
    pub id: String,
    /// Expected MRSIGNER_SEAM.
    pub mrsigner: [u8; 48],
    /// Expected SEAMATTRIBUTES.
    pub attributes: [u8; 8],
    /// Mask for SEAMATTRIBUTES.
    pub attributes_mask: [u8; 8],
    /// Levels by module ISVSVN, highest first: (isvsvn, status, advisories).
    pub levels: Vec<(u8, TcbStatus, Vec<String>)>,
}

/// Parsed TCB info (version 2 or 3, SGX or TDX).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbInfo {
    /// `SGX` or `TDX` (version 3); `SGX` for version 2.
    pub id: String,
    /// TCB info format version.
    pub version: u32,
    /// Issue date (unix seconds).
    pub issue_date: u64,
    /// Next update (unix seconds): the collateral expires then.
    pub next_update: u64,
    /// The FMSPC it applies to.
    pub fmspc: [u8; 6],
    /// The PCE ID it applies to.
    pub pce_id: [u8; 2],
    /// TCB evaluation data number.
    pub tcb_evaluation_data_number: u32,
    /// TCB levels, highest first.
    pub levels: Vec<TcbLevel>,
    /// TDX: the base TDX module identity (mrsigner, attributes, mask).
    pub tdx_module: Option<([u8; 48], [u8; 8], [u8; 8])>,
    /// TDX: module identities by module version.
    pub tdx_module_identities: Vec<TdxModuleIdentity>,
}

/// Parsed QE identity (version 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QeIdentity {
    /// `QE` (SGX) or `TD_QE` (TDX).
    pub id: String,
    /// Issue date (unix seconds).
    pub issue_date: u64,
    /// Next update (unix seconds).
    pub next_update: u64,
    /// Expected MISCSELECT.
    pub miscselect: u32,
    /// Mask for MISCSELECT.
    pub miscselect_mask: u32,
    /// Expected ATTRIBUTES.
    pub attributes: [u8; 16],
    /// Mask for ATTRIBUTES.
    pub attributes_mask: [u8; 16],
    /// Expected MRSIGNER.
    pub mrsigner: [u8; 32],
    /// Expected ISVPRODID.
    pub isvprodid: u16,
    /// Levels by ISVSVN, highest first: (isvsvn, status, advisories).
    pub levels: Vec<(u16, TcbStatus, Vec<String>)>,
}

/// A status with its advisory IDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbOutcome {
    /// The converged status.
    pub status: TcbStatus,
    /// Advisory IDs, platform's first, without duplicates.
    pub advisory_ids: Vec<String>,
}

// ---- JSON helpers (explicit, so that every field is checked) -------------

fn field<'a>(v: &'a Value, name: &str, ctx: &str) -> Result<&'a Value> {
    v.get(name)
        .ok_or_else(|| Error::collateral(format!("{ctx}: missing field {name:?}")))
}

fn str_field<'a>(v: &'a Value, name: &str, ctx: &str) -> Result<&'a str> {
    field(v, name, ctx)?
        .as_str()
        .ok_or_else(|| Error::collateral(format!("{ctx}: {name:?} is not a string")))
}

fn uint_field<T: TryFrom<u64>>(v: &Value, name: &str, ctx: &str) -> Result<T> {
    field(v, name, ctx)?
        .as_u64()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| Error::collateral(format!("{ctx}: {name:?} is not a valid number")))
}

fn hex_field<const N: usize>(v: &Value, name: &str, ctx: &str) -> Result<[u8; N]> {
    let s = str_field(v, name, ctx)?;
    let mut out = [0u8; N];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| Error::collateral(format!("{ctx}: {name:?} is not {N} bytes of hex")))?;
    Ok(out)
}

fn date_field(v: &Value, name: &str, ctx: &str) -> Result<u64> {
    parse_date(str_field(v, name, ctx)?)
        .map_err(|e| Error::collateral(format!("{ctx}: {name:?}: {e}")))
}

/// Parses an RFC 3339 date into unix seconds.
pub(crate) fn parse_date(s: &str) -> std::result::Result<u64, String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    u64::try_from(t.unix_timestamp()).map_err(|_| "date before 1970".to_string())
}

fn status_field(v: &Value, ctx: &str) -> Result<TcbStatus> {
    let s: TcbStatus = str_field(v, "tcbStatus", ctx)?.parse()?;
    if s == TcbStatus::TcbNotChecked {
        return Err(Error::collateral(format!("{ctx}: invalid tcbStatus")));
    }
    Ok(s)
}

fn advisories(v: &Value, ctx: &str) -> Result<Vec<String>> {
    match v.get("advisoryIDs") {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| Error::collateral(format!("{ctx}: advisory ID not a string")))
            })
            .collect(),
        Some(_) => Err(Error::collateral(format!(
            "{ctx}: advisoryIDs not an array"
        ))),
    }
}

fn array<'a>(v: &'a Value, name: &str, ctx: &str) -> Result<&'a Vec<Value>> {
    field(v, name, ctx)?
        .as_array()
        .ok_or_else(|| Error::collateral(format!("{ctx}: {name:?} is not an array")))
}

fn components(v: &Value, name: &str, ctx: &str) -> Result<[u8; 16]> {
    let a = array(v, name, ctx)?;
    if a.len() != 16 {
        return Err(Error::collateral(format!(
            "{ctx}: {name} has {} entries, expected 16",
            a.len()
        )));
    }
    let mut out = [0u8; 16];
    for (o, c) in out.iter_mut().zip(a) {
        *o = uint_field(c, "svn", ctx)?;
    }
    Ok(out)
}

impl TcbInfo {
    /// Parses the `tcbInfo` JSON object (the signed part).
    pub fn parse_json(json: &str) -> Result<Self> {
        let ctx = "tcbInfo";
        let v: Value =
            serde_json::from_str(json).map_err(|e| Error::collateral(format!("{ctx}: {e}")))?;
        let version: u32 = uint_field(&v, "version", ctx)?;
        if !(2..=3).contains(&version) {
            return Err(Error::collateral(format!(
                "{ctx}: unsupported version {version}"
            )));
        }
        let id = match v.get("id") {
            Some(_) => str_field(&v, "id", ctx)?.to_owned(),
            None if version == 2 => "SGX".to_owned(),
            None => return Err(Error::collateral(format!("{ctx}: missing id"))),
        };
        if id != "SGX" && id != "TDX" {
            return Err(Error::collateral(format!("{ctx}: unknown id {id:?}")));
        }
        let is_tdx = id == "TDX";
        let mut levels = Vec::new();
        for l in array(&v, "tcbLevels", ctx)? {
            let ctx = "tcbInfo.tcbLevels";
            let tcb = field(l, "tcb", ctx)?;
            let sgx_components = if version == 2 {
                let mut out = [0u8; 16];
                for (i, o) in out.iter_mut().enumerate() {
                    *o = uint_field(tcb, &format!("sgxtcbcomp{:02}svn", i + 1), ctx)?;
                }
                out
            } else {
                components(tcb, "sgxtcbcomponents", ctx)?
            };
            let tdx_components = if is_tdx {
                Some(components(tcb, "tdxtcbcomponents", ctx)?)
            } else {
                None
            };
            levels.push(TcbLevel {
                sgx_components,
                pce_svn: uint_field(tcb, "pcesvn", ctx)?,
                tdx_components,
                status: status_field(l, ctx)?,
                tcb_date: str_field(l, "tcbDate", ctx)?.to_owned(),
                advisory_ids: advisories(l, ctx)?,
            });
        }
        // Highest first, as Intel's QVL orders them.
        levels.sort_by(|a, b| {
            b.sgx_components
                .cmp(&a.sgx_components)
                .then(b.pce_svn.cmp(&a.pce_svn))
                .then(b.tdx_components.cmp(&a.tdx_components))
        });
        let tdx_module = match v.get("tdxModule") {
            Some(m) if is_tdx => Some((
                hex_field(m, "mrsigner", "tdxModule")?,
                hex_field(m, "attributes", "tdxModule")?,
                hex_field(m, "attributesMask", "tdxModule")?,
            )),
            _ => None,
        };
        let mut tdx_module_identities = Vec::new();
        if let (true, Some(ids)) = (is_tdx, v.get("tdxModuleIdentities")) {
            let ids = ids
                .as_array()
                .ok_or_else(|| Error::collateral("tdxModuleIdentities is not an array"))?;
            for m in ids {
                let ctx = "tdxModuleIdentities";
                let mut levels = Vec::new();
                for l in array(m, "tcbLevels", ctx)? {
                    levels.push((
                        uint_field::<u8>(field(l, "tcb", ctx)?, "isvsvn", ctx)?,
                        status_field(l, ctx)?,
                        advisories(l, ctx)?,
                    ));
                }
                levels.sort_by_key(|l| std::cmp::Reverse(l.0));
                tdx_module_identities.push(TdxModuleIdentity {
                    id: str_field(m, "id", ctx)?.to_owned(),
                    mrsigner: hex_field(m, "mrsigner", ctx)?,
                    attributes: hex_field(m, "attributes", ctx)?,
                    attributes_mask: hex_field(m, "attributesMask", ctx)?,
                    levels,
                });
            }
        }
        Ok(Self {
            id,
            version,
            issue_date: date_field(&v, "issueDate", ctx)?,
            next_update: date_field(&v, "nextUpdate", ctx)?,
            fmspc: hex_field(&v, "fmspc", ctx)?,
            pce_id: hex_field(&v, "pceId", ctx)?,
            tcb_evaluation_data_number: uint_field(&v, "tcbEvaluationDataNumber", ctx).unwrap_or(0),
            levels,
            tdx_module,
            tdx_module_identities,
        })
    }

    /// Matches the platform (and, for TDX, the TD's TEE_TCB_SVN and module)
    /// to a TCB level and returns its status and advisories.
    pub fn evaluate(&self, pck: &PckExtensions, td: Option<&TdReport>) -> Result<TcbOutcome> {
        if pck.fmspc != self.fmspc {
            return Err(Error::CollateralMismatch(format!(
                "TCB info is for FMSPC {}, the PCK certificate has {}",
                hex::encode(self.fmspc),
                hex::encode(pck.fmspc)
            )));
        }
        if pck.pce_id != self.pce_id {
            return Err(Error::CollateralMismatch(
                "TCB info PCE ID differs from the PCK's".into(),
            ));
        }
        match (td.is_some(), self.id.as_str()) {
            (true, "TDX") | (false, "SGX") => {}
            _ => {
                return Err(Error::CollateralMismatch(format!(
                    "{} TCB info for a {} quote",
                    self.id,
                    if td.is_some() { "TDX" } else { "SGX" }
                )));
            }
        }
        let tee_tcb_svn = td.map(|t| t.tee_tcb_svn);
        let level = self
            .levels
            .iter()
            .find(|l| {
                let sgx_ok = l
                    .sgx_components
                    .iter()
                    .zip(&pck.tcb_components)
                    .all(|(need, have)| have >= need)
                    && pck.pce_svn >= l.pce_svn;
                let tdx_ok = match (tee_tcb_svn, l.tdx_components) {
                    (None, _) => true,
                    (Some(have), Some(need)) => {
                        // With a module version (byte 1) set, bytes 0 and 1 are
                        // judged by the TDX module identity instead.
                        let skip = if have[1] > 0 { 2 } else { 0 };
                        have.iter().zip(&need).skip(skip).all(|(h, n)| h >= n)
                    }
                    (Some(_), None) => false,
                };
                sgx_ok && tdx_ok
            })
            .ok_or_else(|| {
                Error::NoTcbLevel(format!(
                    "platform TCB (FMSPC {}) is below every level in the TCB info",
                    hex::encode(self.fmspc)
                ))
            })?;
        let mut outcome = TcbOutcome {
            status: level.status,
            advisory_ids: level.advisory_ids.clone(),
        };
        if let Some(td) = td {
            self.check_tdx_module(td, &mut outcome)?;
        }
        Ok(outcome)
    }

    fn check_tdx_module(&self, td: &TdReport, outcome: &mut TcbOutcome) -> Result<()> {
        let (mut signer, mut attrs, mut mask) = self
            .tdx_module
            .ok_or_else(|| Error::collateral("TDX TCB info lacks tdxModule"))?;
        let version = td.tee_tcb_svn[1];
        if version > 0 {
            let want = format!("TDX_{version:02X}");
            let ident = self
                .tdx_module_identities
                .iter()
                .find(|m| m.id.eq_ignore_ascii_case(&want))
                .ok_or_else(|| {
                    Error::CollateralMismatch(format!("no TDX module identity {want} in TCB info"))
                })?;
            signer = ident.mrsigner;
            attrs = ident.attributes;
            mask = ident.attributes_mask;
            let (_, status, adv) = ident
                .levels
                .iter()
                .find(|(svn, _, _)| td.tee_tcb_svn[0] >= *svn)
                .ok_or_else(|| {
                    Error::NoTcbLevel(format!(
                        "TDX module ISVSVN {} is below every level of {want}",
                        td.tee_tcb_svn[0]
                    ))
                })?;
            merge(outcome, *status, adv);
        }
        if td.mr_signer_seam != signer {
            return Err(Error::CollateralMismatch(
                "TDX module MRSIGNER_SEAM mismatch".into(),
            ));
        }
        let attrs_ok = td
            .seam_attributes
            .iter()
            .zip(attrs.iter().zip(&mask))
            .all(|(have, (want, m))| have & m == want & m);
        if !attrs_ok {
            return Err(Error::CollateralMismatch(
                "TDX module SEAMATTRIBUTES mismatch".into(),
            ));
        }
        Ok(())
    }
}

fn merge(outcome: &mut TcbOutcome, status: TcbStatus, adv: &[String]) {
    outcome.status = outcome.status.converge(status);
    for a in adv {
        if !outcome.advisory_ids.contains(a) {
            outcome.advisory_ids.push(a.clone());
        }
    }
}

impl QeIdentity {
    /// Parses the `enclaveIdentity` JSON object (the signed part).
    pub fn parse_json(json: &str) -> Result<Self> {
        let ctx = "enclaveIdentity";
        let v: Value =
            serde_json::from_str(json).map_err(|e| Error::collateral(format!("{ctx}: {e}")))?;
        let version: u32 = uint_field(&v, "version", ctx)?;
        if version != 2 {
            return Err(Error::collateral(format!(
                "{ctx}: unsupported version {version}"
            )));
        }
        let mut levels = Vec::new();
        for l in array(&v, "tcbLevels", ctx)? {
            levels.push((
                uint_field::<u16>(field(l, "tcb", ctx)?, "isvsvn", ctx)?,
                status_field(l, ctx)?,
                advisories(l, ctx)?,
            ));
        }
        levels.sort_by_key(|l| std::cmp::Reverse(l.0));
        Ok(Self {
            id: str_field(&v, "id", ctx)?.to_owned(),
            issue_date: date_field(&v, "issueDate", ctx)?,
            next_update: date_field(&v, "nextUpdate", ctx)?,
            miscselect: u32::from_le_bytes(hex_field(&v, "miscselect", ctx)?),
            miscselect_mask: u32::from_le_bytes(hex_field(&v, "miscselectMask", ctx)?),
            attributes: hex_field(&v, "attributes", ctx)?,
            attributes_mask: hex_field(&v, "attributesMask", ctx)?,
            mrsigner: hex_field(&v, "mrsigner", ctx)?,
            isvprodid: uint_field(&v, "isvprodid", ctx)?,
            levels,
        })
    }

    /// Checks the QE report against this identity and returns the QE's TCB
    /// status. A QE below every level is `Revoked`, as in Intel's QVL.
    pub fn evaluate(&self, qe: &EnclaveReport) -> Result<TcbOutcome> {
        if qe.mr_signer != self.mrsigner {
            return Err(Error::QeIdentityMismatch("QE MRSIGNER differs".into()));
        }
        if qe.isv_prod_id != self.isvprodid {
            return Err(Error::QeIdentityMismatch(format!(
                "QE ISVPRODID {} differs from {}",
                qe.isv_prod_id, self.isvprodid
            )));
        }
        if qe.misc_select & self.miscselect_mask != self.miscselect & self.miscselect_mask {
            return Err(Error::QeIdentityMismatch("QE MISCSELECT differs".into()));
        }
        let attrs_ok = qe
            .attributes
            .iter()
            .zip(self.attributes.iter().zip(&self.attributes_mask))
            .all(|(have, (want, m))| have & m == want & m);
        if !attrs_ok {
            return Err(Error::QeIdentityMismatch("QE ATTRIBUTES differ".into()));
        }
        Ok(self
            .levels
            .iter()
            .find(|(svn, _, _)| qe.isv_svn >= *svn)
            .map(|(_, status, adv)| TcbOutcome {
                status: *status,
                advisory_ids: adv.clone(),
            })
            .unwrap_or(TcbOutcome {
                status: TcbStatus::Revoked,
                advisory_ids: Vec::new(),
            }))
    }
}

/// Converges the platform outcome with the QE's.
pub(crate) fn converge_qe(platform: TcbOutcome, qe: &TcbOutcome) -> TcbOutcome {
    let mut out = platform;
    merge(&mut out, qe.status, &qe.advisory_ids);
    out
}
