//! Simulated quoting: the host-side stand-in for Intel's quoting enclave
//! (QE), provisioning certification enclave and PCS.
//!
//! On hardware an enclave asks the QE for its TARGETINFO, makes an EREPORT
//! for it, and the QE checks the report's MAC (it can: the report key is its
//! own) and signs a DCAP quote with its attestation key, certified by the
//! platform's PCK certificate under Intel's root. Here the same flow runs
//! against a **per-machine simulated PKI**:
//!
//! * a "Shield Simulation Root CA" (P-256), a simulated PCK platform CA and
//!   a PCK leaf carrying the SGX extensions the verifier reads (FMSPC, PCE
//!   ID, TCB SVNs), a TCB signing certificate, and an attestation key;
//! * a simulated QE with a fixed identity ([`sim_qe_identity`]): its
//!   TARGETINFO is what enclaves make their reports for, and reports are
//!   checked with [`shield_sgx::report::verify_report`] under the machine's
//!   platform secret, as the QE would check them;
//! * collateral (TCB info, QE identity, their signing chain, the two CRLs)
//!   signed by that PKI, valid until 2099.
//!
//! Every key is derived from one 32-byte seed, `sim-quoting.seed` (mode
//! 0600), next to the platform secret; everything else (certificates,
//! collateral) is a deterministic function of it, since ECDSA signing is
//! deterministic (RFC 6979). On first use the public pieces are also written
//! beside it for tools: `sim-root-ca.pem` and the PCS-style collateral
//! directory `sim-collateral/` (what `shield verify --collateral` reads).
//!
//! Quotes from here verify only against
//! [`TrustAnchors::simulation`](shield_attest::TrustAnchors::simulation)
//! (see [`SimQuotingEnclave::trust_anchors`]): a policy must say
//! `allow_simulation = true` to accept them, and every verdict says
//! SIMULATION.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use p256::ecdsa::SigningKey;
use sha2::{Digest, Sha256};
use shield_attest::generate::{self, CertSpec, QuoteInput};
use shield_attest::pki::PckExtensions;
use shield_attest::quote::EnclaveReport;
use shield_attest::{Collateral, TrustAnchors};
use shield_sgx::identity::EnclaveIdentity;
use shield_sgx::isa::{Attributes, AttributesFlags, Report, Targetinfo};
use shield_sgx::keys::PlatformSecret;
use shield_sgx::report::{target_info, verify_report};

use crate::{Error, Result};

/// Certificates and collateral are valid from 2020-01-01 …
const VALID_FROM: u64 = 1_577_836_800;
/// … to 2099-12-31.
const VALID_UNTIL: u64 = 4_102_358_400;
/// The simulated PCE SVN (in the PCK certificate and the TCB info).
const SIM_PCE_SVN: u16 = 13;
/// The simulated QE's ISVSVN.
const SIM_QE_SVN: u16 = 8;
/// The simulated QE's ISVPRODID (Intel's QE uses 1).
const SIM_QE_PRODID: u16 = 1;
/// The simulated platform's FMSPC.
const SIM_FMSPC: [u8; 6] = *b"SHIELD";
/// File names in the state directory.
const SEED_FILE: &str = "sim-quoting.seed";
const ROOT_FILE: &str = "sim-root-ca.pem";
const COLLATERAL_DIR: &str = "sim-collateral";

fn quoting_err(e: impl std::fmt::Display) -> Error {
    Error::Quoting(e.to_string())
}

/// The identity of the simulated quoting enclave: fixed MRENCLAVE and
/// MRSIGNER (hashes of their names), ISVPRODID 1, ISVSVN 8,
/// INIT | MODE64BIT | PROVISIONKEY.
pub fn sim_qe_identity() -> EnclaveIdentity {
    EnclaveIdentity {
        mrenclave: Sha256::digest(b"Shield simulated quoting enclave").into(),
        mrsigner: Sha256::digest(b"Shield simulated quoting enclave signer").into(),
        isvprodid: SIM_QE_PRODID,
        isvsvn: SIM_QE_SVN,
        attributes: Attributes {
            flags: AttributesFlags::INIT
                | AttributesFlags::MODE64BIT
                | AttributesFlags::PROVISIONKEY,
            xfrm: 0xe7,
        },
        miscselect: 0,
    }
}

/// The TARGETINFO of the simulated QE: enclaves make the report they want
/// quoted for it.
pub fn sim_qe_target_info() -> Targetinfo {
    target_info(&sim_qe_identity())
}

/// Where the simulated quoting state lives: the platform secret's directory.
pub fn default_quoting_dir() -> PathBuf {
    let secret = crate::default_platform_path();
    match secret.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// The simulation root CA certificate (PEM) in the default state directory,
/// if it has been created.
pub fn default_sim_root_path() -> PathBuf {
    default_quoting_dir().join(ROOT_FILE)
}

/// Converts an SGX REPORT (architectural layout) to a quote's report body.
pub fn report_body(r: &Report) -> EnclaveReport {
    let mut attributes = [0u8; 16];
    attributes[..8].copy_from_slice(&r.attributes.flags.bits().to_le_bytes());
    attributes[8..].copy_from_slice(&r.attributes.xfrm.to_le_bytes());
    EnclaveReport {
        cpu_svn: r.cpusvn,
        misc_select: r.miscselect.bits(),
        attributes,
        mr_enclave: r.mrenclave,
        mr_signer: r.mrsigner,
        isv_prod_id: r.isvprodid,
        isv_svn: r.isvsvn,
        report_data: r.reportdata,
    }
}

/// The simulated quoting stack of this machine.
pub struct SimQuotingEnclave {
    platform: PlatformSecret,
    root_key: SigningKey,
    root: Vec<u8>,
    ca_key: SigningKey,
    ca: Vec<u8>,
    leaf_key: SigningKey,
    leaf: Vec<u8>,
    tcb_key: SigningKey,
    tcb: Vec<u8>,
    attestation_key: SigningKey,
    pck: PckExtensions,
    qe_id: [u8; 16],
}

/// One launched enclave's platform, for quoting: the simulated QE is loaded
/// from `dir` on first use, then kept.
pub(crate) struct PlatformQuoting {
    platform: PlatformSecret,
    dir: PathBuf,
    qe: OnceLock<SimQuotingEnclave>,
}

impl PlatformQuoting {
    pub(crate) fn new(platform: PlatformSecret, dir: PathBuf) -> Self {
        Self {
            platform,
            dir,
            qe: OnceLock::new(),
        }
    }

    /// The simulated QE, loaded (or created) on first use.
    pub(crate) fn get(&self) -> Result<&SimQuotingEnclave> {
        if let Some(qe) = self.qe.get() {
            return Ok(qe);
        }
        let qe = SimQuotingEnclave::load_or_create(&self.dir, self.platform.clone())?;
        Ok(self.qe.get_or_init(|| qe))
    }
}

impl std::fmt::Debug for SimQuotingEnclave {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimQuotingEnclave").finish_non_exhaustive()
    }
}

impl SimQuotingEnclave {
    /// Loads the quoting state from `dir` (creating the seed, mode 0600, and
    /// the public files on first use) for the platform `platform`.
    pub fn load_or_create(dir: &Path, platform: PlatformSecret) -> Result<Self> {
        let seed = load_or_create_seed(&dir.join(SEED_FILE))?;
        let qe = Self::from_seed(&seed, platform)?;
        qe.write_public(dir)?;
        Ok(qe)
    }

    /// The machine's quoting stack: state in [`default_quoting_dir`], the
    /// platform secret at its default path.
    pub fn for_this_machine() -> Result<Self> {
        let platform = crate::load_or_create_platform(&crate::default_platform_path())?;
        Self::load_or_create(&default_quoting_dir(), platform)
    }

    /// Builds the stack from a seed (deterministic; tests use fixed seeds).
    pub fn from_seed(seed: &[u8; 32], platform: PlatformSecret) -> Result<Self> {
        let key = |label: &str| {
            let mut s = seed.to_vec();
            s.extend_from_slice(label.as_bytes());
            generate::key_from_seed(&s)
        };
        let (root_key, ca_key, leaf_key, tcb_key, attestation_key) = (
            key("root"),
            key("pck ca"),
            key("pck leaf"),
            key("tcb signing"),
            key("attestation key"),
        );
        let spec = |subject, serial, ca| CertSpec {
            subject,
            serial,
            not_before: VALID_FROM,
            not_after: VALID_UNTIL,
            ca,
            sgx: None,
        };
        let root = generate::issue_cert(
            &spec(
                "CN=Shield Simulation Root CA,O=Shield (SIMULATION)",
                &[1],
                true,
            ),
            &generate::public(&root_key),
            None,
            &root_key,
        )
        .map_err(quoting_err)?;
        let ca = generate::issue_cert(
            &spec(
                "CN=Shield Simulation PCK Platform CA,O=Shield (SIMULATION)",
                &[2],
                true,
            ),
            &generate::public(&ca_key),
            Some(&root),
            &root_key,
        )
        .map_err(quoting_err)?;
        let pck = PckExtensions {
            tcb_components: platform.cpusvn(),
            pce_svn: SIM_PCE_SVN,
            cpu_svn: platform.cpusvn(),
            pce_id: [0, 0],
            fmspc: SIM_FMSPC,
        };
        let leaf = generate::issue_cert(
            &CertSpec {
                sgx: Some(&pck),
                ..spec(
                    "CN=Shield Simulation PCK Certificate,O=Shield (SIMULATION)",
                    &[3],
                    false,
                )
            },
            &generate::public(&leaf_key),
            Some(&ca),
            &ca_key,
        )
        .map_err(quoting_err)?;
        let tcb = generate::issue_cert(
            &spec(
                "CN=Shield Simulation TCB Signing,O=Shield (SIMULATION)",
                &[4],
                false,
            ),
            &generate::public(&tcb_key),
            Some(&root),
            &root_key,
        )
        .map_err(quoting_err)?;
        let mut qe_id = [0u8; 16];
        qe_id.copy_from_slice(&Sha256::digest([&seed[..], b"qe id"].concat())[..16]);
        Ok(Self {
            platform,
            root_key,
            root,
            ca_key,
            ca,
            leaf_key,
            leaf,
            tcb_key,
            tcb,
            attestation_key,
            pck,
            qe_id,
        })
    }

    /// The simulated QE's TARGETINFO.
    pub fn target_info(&self) -> Targetinfo {
        sim_qe_target_info()
    }

    /// Quotes `report` as the QE would: checks that it was made on this
    /// platform for the simulated QE (its MAC), then builds and signs a DCAP
    /// v3 quote with the attestation key.
    pub fn quote(&self, report: &Report) -> Result<Vec<u8>> {
        verify_report(&self.platform, &sim_qe_identity(), report).map_err(|e| {
            Error::Quoting(format!(
                "the report is not for the simulated quoting enclave on this platform: {e}"
            ))
        })?;
        let body = shield_attest::Report::Sgx(report_body(report));
        let qe = sim_qe_identity();
        let qe_report = EnclaveReport {
            cpu_svn: self.platform.cpusvn(),
            misc_select: qe.miscselect,
            attributes: {
                let mut a = [0u8; 16];
                a[..8].copy_from_slice(&qe.attributes.flags.bits().to_le_bytes());
                a[8..].copy_from_slice(&qe.attributes.xfrm.to_le_bytes());
                a
            },
            mr_enclave: qe.mrenclave,
            mr_signer: qe.mrsigner,
            isv_prod_id: qe.isvprodid,
            isv_svn: qe.isvsvn,
            report_data: [0; 64],
        };
        let mut user_data = [0u8; 20];
        user_data[..16].copy_from_slice(&self.qe_id);
        let chain = self.pck_chain_pem()?;
        generate::build_quote(&QuoteInput {
            version: 3,
            report: &body,
            qe_report: &qe_report,
            attestation_key: &self.attestation_key,
            pck_key: &self.leaf_key,
            qe_auth_data: &Sha256::digest(b"Shield simulated QE authentication data"),
            pck_chain_pem: chain.as_bytes(),
            qe_svn: qe.isvsvn,
            pce_svn: self.pck.pce_svn,
            user_data,
        })
        .map_err(quoting_err)
    }

    /// The PCK chain (leaf, platform CA, root) in PEM.
    fn pck_chain_pem(&self) -> Result<String> {
        let mut out = String::new();
        for der in [&self.leaf, &self.ca, &self.root] {
            out.push_str(&generate::cert_pem(der).map_err(quoting_err)?);
        }
        Ok(out)
    }

    /// The simulation root CA certificate (DER).
    pub fn root_der(&self) -> &[u8] {
        &self.root
    }

    /// Trust anchors for quotes from this stack (flagged as simulation).
    pub fn trust_anchors(&self) -> TrustAnchors {
        TrustAnchors::simulation(&[&self.root]).expect("our own root certificate parses")
    }

    /// The collateral as PCS serves it: `tcb_info.json`,
    /// `qe_identity.json`, `tcb_signing_chain.pem`, `pck_crl.der`,
    /// `root_crl.der`, in that order.
    pub fn collateral_parts(&self) -> Result<[(&'static str, Vec<u8>); 5]> {
        let comps: Vec<String> = self
            .pck
            .tcb_components
            .iter()
            .map(|c| format!("{{\"svn\":{c}}}"))
            .collect();
        let tcb_info = format!(
            "{{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"{from}\",\"nextUpdate\":\"{until}\",\"fmspc\":\"{fmspc}\",\"pceId\":\"{pce_id}\",\"tcbType\":0,\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[{{\"tcb\":{{\"sgxtcbcomponents\":[{comps}],\"pcesvn\":{pce}}},\"tcbDate\":\"{from}\",\"tcbStatus\":\"UpToDate\",\"advisoryIDs\":[]}}]}}",
            from = iso(VALID_FROM),
            until = iso(VALID_UNTIL),
            fmspc = hex_upper(&self.pck.fmspc),
            pce_id = hex_upper(&self.pck.pce_id),
            comps = comps.join(","),
            pce = self.pck.pce_svn,
        );
        let qe = sim_qe_identity();
        let mut attributes = [0u8; 16];
        attributes[..8].copy_from_slice(&qe.attributes.flags.bits().to_le_bytes());
        let qe_identity = format!(
            "{{\"id\":\"QE\",\"version\":2,\"issueDate\":\"{from}\",\"nextUpdate\":\"{until}\",\"tcbEvaluationDataNumber\":1,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"{attributes}\",\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"{mrsigner}\",\"isvprodid\":{prodid},\"tcbLevels\":[{{\"tcb\":{{\"isvsvn\":{svn}}},\"tcbDate\":\"{from}\",\"tcbStatus\":\"UpToDate\"}}]}}",
            from = iso(VALID_FROM),
            until = iso(VALID_UNTIL),
            attributes = hex_upper(&attributes),
            mrsigner = hex_upper(&qe.mrsigner),
            prodid = qe.isvprodid,
            svn = qe.isvsvn,
        );
        let sign = |body: &str| hex_lower(&generate::sign_json(body, &self.tcb_key));
        let tcb_file = format!(
            "{{\"tcbInfo\":{tcb_info},\"signature\":\"{}\"}}",
            sign(&tcb_info)
        );
        let qe_file = format!(
            "{{\"enclaveIdentity\":{qe_identity},\"signature\":\"{}\"}}",
            sign(&qe_identity)
        );
        let chain = generate::cert_pem(&self.tcb).map_err(quoting_err)?
            + &generate::cert_pem(&self.root).map_err(quoting_err)?;
        let pck_crl = generate::issue_crl(&self.ca, &self.ca_key, VALID_FROM, VALID_UNTIL, &[])
            .map_err(quoting_err)?;
        let root_crl =
            generate::issue_crl(&self.root, &self.root_key, VALID_FROM, VALID_UNTIL, &[])
                .map_err(quoting_err)?;
        Ok([
            ("tcb_info.json", tcb_file.into_bytes()),
            ("qe_identity.json", qe_file.into_bytes()),
            ("tcb_signing_chain.pem", chain.into_bytes()),
            ("pck_crl.der", pck_crl),
            ("root_crl.der", root_crl),
        ])
    }

    /// The collateral that checks this stack's quotes.
    pub fn collateral(&self) -> Result<Collateral> {
        let [t, q, c, p, r] = self.collateral_parts()?;
        Collateral::from_pcs_parts(&t.1, &q.1, &c.1, &p.1, &r.1).map_err(quoting_err)
    }

    /// Writes the public pieces: the root (PEM) and the collateral directory.
    fn write_public(&self, dir: &Path) -> Result<()> {
        let write = |path: PathBuf, bytes: &[u8]| -> Result<()> {
            if std::fs::read(&path).ok().as_deref() == Some(bytes) {
                return Ok(());
            }
            // Write then rename, so a reader never sees half a file.
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            std::fs::write(&tmp, bytes)
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|source| Error::Io { path, source })
        };
        write(
            dir.join(ROOT_FILE),
            generate::cert_pem(&self.root)
                .map_err(quoting_err)?
                .as_bytes(),
        )?;
        let cdir = dir.join(COLLATERAL_DIR);
        std::fs::create_dir_all(&cdir).map_err(|source| Error::Io {
            path: cdir.clone(),
            source,
        })?;
        for (name, bytes) in self.collateral_parts()? {
            write(cdir.join(name), &bytes)?;
        }
        Ok(())
    }
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn iso(secs: u64) -> String {
    let days = secs / 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Reads the 32-byte seed at `path`, creating it (mode 0600; directory
/// 0700) if absent. A seed readable by others is refused.
fn load_or_create_seed(path: &Path) -> Result<[u8; 32]> {
    let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
    getrandom::getrandom(&mut fresh[..]).map_err(|e| Error::Quoting(e.to_string()))?;
    let bytes =
        crate::platform::load_or_create_private_file(path, 32, "a simulated quoting seed", || {
            fresh.to_vec()
        })?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| Error::Internal("seed size"))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use shield_attest::{Policy, TcbStatus, Verdict, Verifier};
    use shield_sgx::report::ereport;

    fn enclave() -> EnclaveIdentity {
        EnclaveIdentity {
            mrenclave: [0xaa; 32],
            mrsigner: [0xbb; 32],
            isvprodid: 3,
            isvsvn: 2,
            attributes: Attributes {
                flags: AttributesFlags::INIT | AttributesFlags::MODE64BIT,
                xfrm: 3,
            },
            miscselect: 0,
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso(VALID_FROM), "2020-01-01T00:00:00Z");
        assert_eq!(iso(VALID_UNTIL), "2099-12-31T00:00:00Z");
        assert_eq!(iso(1_760_000_000), "2025-10-09T08:53:20Z");
    }

    #[test]
    fn a_report_for_the_qe_becomes_a_verifiable_simulation_quote() {
        let dir = tempfile::tempdir().unwrap();
        let platform = crate::load_or_create_platform(&dir.path().join("platform.secret")).unwrap();
        let qe = SimQuotingEnclave::load_or_create(dir.path(), platform.clone()).unwrap();
        let seed_mode = std::fs::metadata(dir.path().join(SEED_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(seed_mode & 0o777, 0o600);
        let mut data = [0u8; 64];
        data[..5].copy_from_slice(b"hello");
        let report = ereport(&platform, &enclave(), &qe.target_info(), &data);
        let quote = qe.quote(&report).unwrap();

        let collateral = Collateral::load(&dir.path().join(COLLATERAL_DIR)).unwrap();
        let verifier = Verifier::new(qe.trust_anchors());
        let now = 1_800_000_000;
        let v = verifier.verify(&quote, Some(&collateral), now).unwrap();
        assert!(v.simulation);
        assert_eq!(v.tcb.status, TcbStatus::UpToDate);
        let shield_attest::Report::Sgx(r) = &v.quote.report else {
            panic!("an SGX quote")
        };
        assert_eq!(r.mr_enclave, [0xaa; 32]);
        assert_eq!(r.report_data, data);

        let allow = Policy::from_toml("allow_simulation = true").unwrap();
        let verdict = Verdict::evaluate(&verifier, &quote, Some(&collateral), &allow, now);
        assert!(verdict.accepted, "{verdict}");
        assert!(verdict.to_string().contains("SIMULATION"));
        let verdict = Verdict::evaluate(
            &verifier,
            &quote,
            Some(&collateral),
            &Policy::permissive(),
            now,
        );
        assert!(!verdict.accepted, "{verdict}");
        // Production anchors never accept it.
        assert!(Verifier::intel().verify(&quote, None, now).is_err());

        // Reloading gives the same stack.
        let again = SimQuotingEnclave::load_or_create(dir.path(), platform.clone()).unwrap();
        assert_eq!(again.root_der(), qe.root_der());
    }

    #[test]
    fn reports_for_someone_else_or_from_another_platform_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let platform = crate::load_or_create_platform(&dir.path().join("platform.secret")).unwrap();
        let qe = SimQuotingEnclave::from_seed(&[7; 32], platform.clone()).unwrap();
        let not_qe = target_info(&enclave());
        let report = ereport(&platform, &enclave(), &not_qe, &[0; 64]);
        assert!(qe.quote(&report).is_err());
        let other = PlatformSecret::generate([1; 16]);
        let report = ereport(&other, &enclave(), &qe.target_info(), &[0; 64]);
        assert!(qe.quote(&report).is_err());
    }
}
