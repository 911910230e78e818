//! The outcome of verifying and appraising a quote, printable for people
//! (`Display`) and machines (`Serialize`).

use std::fmt;

use serde::{Serialize, Serializer};

use crate::collateral::Collateral;
use crate::error::Error;
use crate::policy::Policy;
use crate::quote::{Quote, Report, TeeType};
use crate::tcb::TcbStatus;
use crate::verify::Verifier;

/// The identity a quote attests (present whenever the quote parses, even if
/// it does not verify: then it is *claimed*, not proven).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// SGX or TDX.
    pub tee: TeeType,
    /// Quote format version.
    pub quote_version: u16,
    /// SGX: MRENCLAVE (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrenclave: Option<String>,
    /// SGX: MRSIGNER (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrsigner: Option<String>,
    /// SGX: ISVPRODID.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isvprodid: Option<u16>,
    /// SGX: ISVSVN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isvsvn: Option<u16>,
    /// TDX: MRTD (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrtd: Option<String>,
    /// TDX: RTMR0..3 (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtmr: Option<Vec<String>>,
    /// Debug enclave or TD.
    pub debug: bool,
    /// REPORTDATA (hex, 64 bytes).
    pub report_data: String,
}

impl Identity {
    /// The identity claimed by a parsed quote.
    pub fn of(quote: &Quote) -> Self {
        let mut id = Identity {
            tee: quote.header.tee_type,
            quote_version: quote.header.version,
            mrenclave: None,
            mrsigner: None,
            isvprodid: None,
            isvsvn: None,
            mrtd: None,
            rtmr: None,
            debug: quote.report.is_debug(),
            report_data: hex::encode(quote.report.report_data()),
        };
        match &quote.report {
            Report::Sgx(r) => {
                id.mrenclave = Some(hex::encode(r.mr_enclave));
                id.mrsigner = Some(hex::encode(r.mr_signer));
                id.isvprodid = Some(r.isv_prod_id);
                id.isvsvn = Some(r.isv_svn);
            }
            Report::Td(t) => {
                id.mrtd = Some(hex::encode(t.mr_td));
                id.rtmr = Some(t.rtmr.iter().map(hex::encode).collect());
            }
        }
        id
    }
}

fn ser_error<S: Serializer>(e: &Option<Error>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_str(&e.to_string()),
        None => s.serialize_none(),
    }
}

/// The verdict on a quote: verification result plus policy appraisal.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    /// True only if the quote verified and the policy accepts it.
    pub accepted: bool,
    /// The quote chains to a simulation anchor: not backed by real hardware.
    pub simulation: bool,
    /// The TCB status, if the quote verified.
    pub status: Option<TcbStatus>,
    /// Security advisory IDs for the platform and QE TCB levels.
    pub advisory_ids: Vec<String>,
    /// The identity in the quote, if it parsed.
    pub identity: Option<Identity>,
    /// The FMSPC of the platform (hex), if verified.
    pub fmspc: Option<String>,
    /// Why verification failed, if it did.
    #[serde(serialize_with = "ser_error")]
    pub error: Option<Error>,
    /// Why the policy refused the quote (empty if it accepted or was not reached).
    pub policy_refusals: Vec<String>,
    /// The verification time (unix seconds).
    pub verified_at: u64,
}

impl Verdict {
    /// Verifies `quote` with `verifier` at `now`, then appraises it with `policy`.
    pub fn evaluate(
        verifier: &Verifier,
        quote: &[u8],
        collateral: Option<&Collateral>,
        policy: &Policy,
        now: u64,
    ) -> Self {
        let mut v = Verdict {
            accepted: false,
            simulation: verifier.anchors().is_simulation(),
            status: None,
            advisory_ids: Vec::new(),
            identity: None,
            fmspc: None,
            error: None,
            policy_refusals: Vec::new(),
            verified_at: now,
        };
        let parsed = match Quote::parse(quote) {
            Ok(q) => q,
            Err(e) => {
                v.error = Some(e);
                return v;
            }
        };
        v.identity = Some(Identity::of(&parsed));
        match verifier.verify_parsed(parsed, collateral, now) {
            Err(e) => v.error = Some(e),
            Ok(vq) => {
                v.status = Some(vq.tcb.status);
                v.advisory_ids = vq.tcb.advisory_ids.clone();
                v.fmspc = Some(hex::encode(vq.pck.fmspc));
                v.policy_refusals = policy.appraise(&vq);
                v.accepted = v.policy_refusals.is_empty();
            }
        }
        v
    }

    /// The verdict as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.simulation {
            writeln!(
                f,
                "!!! SIMULATION: this quote chains to a simulation root, NOT to Intel: it proves nothing about real hardware !!!"
            )?;
        }
        let word = if self.accepted { "ACCEPTED" } else { "REFUSED" };
        if self.simulation {
            writeln!(f, "verdict: {word} (SIMULATION)")?;
        } else {
            writeln!(f, "verdict: {word}")?;
        }
        match self.status {
            Some(s) => writeln!(f, "status: {s}")?,
            None => writeln!(f, "status: NotVerified")?,
        }
        if self.advisory_ids.is_empty() {
            writeln!(f, "advisories: none")?;
        } else {
            writeln!(f, "advisories: {}", self.advisory_ids.join(","))?;
        }
        if let Some(e) = &self.error {
            writeln!(f, "error: {e}")?;
        }
        for r in &self.policy_refusals {
            writeln!(f, "policy: {r}")?;
        }
        if let Some(id) = &self.identity {
            if self.status.is_none() {
                writeln!(
                    f,
                    "note: the identity below is claimed by the quote, NOT verified"
                )?;
            }
            let tee = match id.tee {
                TeeType::Sgx => "SGX",
                TeeType::Tdx => "TDX",
            };
            writeln!(f, "tee: {tee} (quote v{})", id.quote_version)?;
            let opt = |f: &mut fmt::Formatter<'_>, k: &str, v: &Option<String>| match v {
                Some(v) => writeln!(f, "{k}: {v}"),
                None => Ok(()),
            };
            opt(f, "mrenclave", &id.mrenclave)?;
            opt(f, "mrtd", &id.mrtd)?;
            opt(f, "mrsigner", &id.mrsigner)?;
            opt(f, "isvprodid", &id.isvprodid.map(|v| v.to_string()))?;
            opt(f, "isvsvn", &id.isvsvn.map(|v| v.to_string()))?;
            if let Some(rtmr) = &id.rtmr {
                for (i, r) in rtmr.iter().enumerate() {
                    writeln!(f, "rtmr{i}: {r}")?;
                }
            }
            writeln!(f, "debug: {}", id.debug)?;
            writeln!(f, "report_data: {}", id.report_data)?;
        }
        if let Some(fmspc) = &self.fmspc {
            writeln!(f, "fmspc: {fmspc}")?;
        }
        write!(f, "verified_at: {}", crate::time_fmt(self.verified_at))
    }
}
