//! Appraisal policy: which verified quotes are acceptable.
//!
//! A small TOML file; every key is optional and unknown keys are an error:
//!
//! ```toml
//! # SGX identity: allowed MRENCLAVE values, and/or the signer.
//! mrenclave = ["33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"]
//! mrsigner = "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"
//! isvprodid = 0          # requires mrsigner
//! min_isvsvn = 0         # requires mrsigner
//! # TDX identity: allowed MRTD values.
//! mrtd = ["91eb2b44..."]
//! allow_debug = false    # default false
//! allow_simulation = false  # default false
//! # Acceptable TCB statuses. A quote verified without collateral has the
//! # status TcbNotChecked, accepted by a list only if it names it.
//! # Default: anything but Revoked (`shield pack`: anything but Revoked
//! # and TcbNotChecked).
//! tcb_statuses = ["UpToDate", "SWHardeningNeeded"]
//! # Expected REPORTDATA (up to 64 bytes, hex); shorter values are
//! # zero-padded and the whole 64 bytes must match.
//! report_data = "48656c6c6f2c20776f726c6421"
//! ```

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::quote::Report;
use crate::tcb::TcbStatus;
use crate::verify::VerifiedQuote;

/// A parsed appraisal policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Allowed MRENCLAVE values (empty: any).
    pub mrenclave: Vec<[u8; 32]>,
    /// Required MRSIGNER.
    pub mrsigner: Option<[u8; 32]>,
    /// Required ISVPRODID (with `mrsigner`).
    pub isvprodid: Option<u16>,
    /// Minimum ISVSVN (with `mrsigner`).
    pub min_isvsvn: Option<u16>,
    /// Allowed MRTD values (empty: any).
    pub mrtd: Vec<[u8; 48]>,
    /// Whether debug enclaves/TDs are acceptable.
    pub allow_debug: bool,
    /// Whether quotes from a simulation trust anchor are acceptable.
    pub allow_simulation: bool,
    /// Acceptable TCB statuses; `None` means any but `Revoked`.
    pub tcb_statuses: Option<Vec<TcbStatus>>,
    /// Expected REPORTDATA.
    pub report_data: Option<[u8; 64]>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    mrenclave: Vec<String>,
    mrsigner: Option<String>,
    isvprodid: Option<u16>,
    min_isvsvn: Option<u16>,
    #[serde(default)]
    mrtd: Vec<String>,
    #[serde(default)]
    allow_debug: bool,
    #[serde(default)]
    allow_simulation: bool,
    tcb_statuses: Option<Vec<String>>,
    report_data: Option<String>,
}

fn hex_exact<const N: usize>(s: &str, what: &str) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    hex::decode_to_slice(s.trim(), &mut out)
        .map_err(|_| Error::InvalidPolicy(format!("{what} must be {N} bytes of hex")))?;
    Ok(out)
}

impl Policy {
    /// The policy used without a policy file: any valid, non-revoked,
    /// non-simulation quote (debug allowed).
    pub fn permissive() -> Self {
        Self {
            allow_debug: true,
            ..Self::default()
        }
    }

    /// Parses a TOML policy.
    pub fn from_toml(text: &str) -> Result<Self> {
        let raw: Raw = toml::from_str(text).map_err(|e| Error::InvalidPolicy(e.to_string()))?;
        if raw.mrsigner.is_none() && (raw.isvprodid.is_some() || raw.min_isvsvn.is_some()) {
            return Err(Error::InvalidPolicy(
                "isvprodid and min_isvsvn need mrsigner".into(),
            ));
        }
        let tcb_statuses = match raw.tcb_statuses {
            None => None,
            Some(list) => {
                let mut out = Vec::new();
                for s in list {
                    let st: TcbStatus = s
                        .parse()
                        .map_err(|_| Error::InvalidPolicy(format!("unknown TCB status {s:?}")))?;
                    out.push(st);
                }
                Some(out)
            }
        };
        let report_data = match raw.report_data {
            None => None,
            Some(s) => {
                let bytes = hex::decode(s.trim())
                    .map_err(|_| Error::InvalidPolicy("report_data is not hex".into()))?;
                if bytes.len() > 64 {
                    return Err(Error::InvalidPolicy(
                        "report_data is longer than 64 bytes".into(),
                    ));
                }
                let mut rd = [0u8; 64];
                rd[..bytes.len()].copy_from_slice(&bytes);
                Some(rd)
            }
        };
        Ok(Self {
            mrenclave: raw
                .mrenclave
                .iter()
                .map(|s| hex_exact(s, "mrenclave"))
                .collect::<Result<_>>()?,
            mrsigner: raw
                .mrsigner
                .map(|s| hex_exact(&s, "mrsigner"))
                .transpose()?,
            isvprodid: raw.isvprodid,
            min_isvsvn: raw.min_isvsvn,
            mrtd: raw
                .mrtd
                .iter()
                .map(|s| hex_exact(s, "mrtd"))
                .collect::<Result<_>>()?,
            allow_debug: raw.allow_debug,
            allow_simulation: raw.allow_simulation,
            tcb_statuses,
            report_data,
        })
    }

    /// Appraises a verified quote; returns every reason for refusal (empty: accepted).
    pub fn appraise(&self, v: &VerifiedQuote) -> Vec<String> {
        let mut why = Vec::new();
        if v.simulation && !self.allow_simulation {
            why.push("SIMULATION quote and the policy does not allow simulation".to_owned());
        }
        let status = v.tcb.status;
        match &self.tcb_statuses {
            None if status == TcbStatus::Revoked => why.push("TCB status is Revoked".to_owned()),
            None => {}
            Some(list) if !list.contains(&status) => {
                why.push(format!(
                    "TCB status {status} is not in the policy's tcb_statuses"
                ));
            }
            Some(_) => {}
        }
        let report = &v.quote.report;
        if report.is_debug() && !self.allow_debug {
            why.push("debug enclave/TD and the policy does not allow debug".to_owned());
        }
        if self
            .report_data
            .is_some_and(|rd| *report.report_data() != rd)
        {
            why.push("report data differs from the policy's report_data".to_owned());
        }
        match report {
            Report::Sgx(r) => {
                if !self.mrtd.is_empty() {
                    why.push("policy requires a TDX MRTD but this is an SGX quote".to_owned());
                }
                if !self.mrenclave.is_empty() && !self.mrenclave.contains(&r.mr_enclave) {
                    why.push("MRENCLAVE is not in the policy's list".to_owned());
                }
                if self.mrsigner.is_some_and(|s| s != r.mr_signer) {
                    why.push("MRSIGNER differs from the policy's".to_owned());
                }
                if let Some(p) = self.isvprodid.filter(|p| *p != r.isv_prod_id) {
                    why.push(format!("ISVPRODID {} is not {p}", r.isv_prod_id));
                }
                if let Some(m) = self.min_isvsvn.filter(|m| r.isv_svn < *m) {
                    why.push(format!("ISVSVN {} is below the minimum {m}", r.isv_svn));
                }
            }
            Report::Td(t) => {
                if !self.mrenclave.is_empty() || self.mrsigner.is_some() {
                    why.push(
                        "policy constrains an SGX MRENCLAVE/MRSIGNER but this is a TDX quote"
                            .to_owned(),
                    );
                }
                if !self.mrtd.is_empty() && !self.mrtd.contains(&t.mr_td) {
                    why.push("MRTD is not in the policy's list".to_owned());
                }
            }
        }
        why
    }
}
