//! Shared helpers: locating the external test data.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

/// The test data root (`$SHIELD_TESTDATA`, else `shared/testdata` beside the
/// clone) if it holds `quotes/`; otherwise `None`, after a `SKIPPED` line
/// that CI's log shows.
pub fn testdata(test: &str) -> Option<PathBuf> {
    match shield_testdata::root() {
        Some(root) if root.join("quotes").is_dir() => Some(root),
        _ => {
            shield_testdata::skip(&format!(
                "{test}: test data quotes/ not found (set SHIELD_TESTDATA or place shared/testdata beside the clone)"
            ));
            None
        }
    }
}

pub fn read(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

pub const SGX_NOW: u64 = 1_752_919_277;
pub const TDX_NOW: u64 = 1_752_919_234;

use shield_attest::TrustAnchors;
use shield_attest::collateral::Collateral;
use shield_attest::generate::{self, CertSpec, QuoteInput};
use shield_attest::pki::PckExtensions;
use shield_attest::quote::EnclaveReport;

/// "Now" for generated artifacts (2025-10-09).
pub const SIM_NOW: u64 = 1_760_000_000;
const DAY: u64 = 86_400;

/// A certificate whose subject is "Intel SGX Root CA" but whose key is not Intel's.
pub fn impostor_root() -> Vec<u8> {
    let key = generate::key_from_seed(b"impostor root");
    generate::issue_cert(
        &CertSpec {
            subject: "C=US,ST=CA,L=Santa Clara,O=Intel Corporation,CN=Intel SGX Root CA",
            serial: &[1],
            not_before: 1_500_000_000,
            not_after: 2_500_000_000,
            ca: true,
            sgx: None,
        },
        &generate::public(&key),
        None,
        &key,
    )
    .unwrap()
}

/// A simulated Intel-like PKI, platform and quoting enclave.
pub struct Sim {
    pub root_key: p256::ecdsa::SigningKey,
    pub root: Vec<u8>,
    pub ca_key: p256::ecdsa::SigningKey,
    pub ca: Vec<u8>,
    pub leaf_key: p256::ecdsa::SigningKey,
    pub leaf: Vec<u8>,
    pub tcb_key: p256::ecdsa::SigningKey,
    pub tcb: Vec<u8>,
    pub ak: p256::ecdsa::SigningKey,
    pub pck: PckExtensions,
    pub qe: EnclaveReport,
}

pub const QE_MRSIGNER: [u8; 32] = [0x8c; 32];

pub fn report(mr_enclave: u8, debug: bool, isv_svn: u16) -> EnclaveReport {
    let mut report_data = [0u8; 64];
    report_data[..5].copy_from_slice(b"nonce");
    EnclaveReport {
        cpu_svn: [0; 16],
        misc_select: 0,
        attributes: [
            if debug { 0x07 } else { 0x05 },
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0xe7,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
        ],
        mr_enclave: [mr_enclave; 32],
        mr_signer: [0x81; 32],
        isv_prod_id: 7,
        isv_svn,
        report_data,
    }
}

impl Sim {
    /// A platform with the given SGX TCB component SVNs and PCE SVN, and a QE with `qe_svn`.
    pub fn new(comps: u8, pce_svn: u16, qe_svn: u16) -> Self {
        let root_key = generate::key_from_seed(b"sim root");
        let ca_key = generate::key_from_seed(b"sim pck ca");
        let leaf_key = generate::key_from_seed(b"sim pck leaf");
        let tcb_key = generate::key_from_seed(b"sim tcb signing");
        let ak = generate::key_from_seed(b"sim attestation key");
        let spec = |subject, serial, ca| CertSpec {
            subject,
            serial,
            not_before: SIM_NOW - 365 * DAY,
            not_after: SIM_NOW + 365 * DAY,
            ca,
            sgx: None,
        };
        let root = generate::issue_cert(
            &spec("CN=Shield Sim SGX Root CA,O=Shield", &[1], true),
            &generate::public(&root_key),
            None,
            &root_key,
        )
        .unwrap();
        let ca = generate::issue_cert(
            &spec("CN=Shield Sim PCK Platform CA,O=Shield", &[2], true),
            &generate::public(&ca_key),
            Some(&root),
            &root_key,
        )
        .unwrap();
        let pck = PckExtensions {
            tcb_components: [comps; 16],
            pce_svn,
            cpu_svn: [comps; 16],
            pce_id: [0, 0],
            fmspc: [0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00],
        };
        let leaf = generate::issue_cert(
            &CertSpec {
                sgx: Some(&pck),
                ..spec("CN=Shield Sim PCK Certificate,O=Shield", &[3], false)
            },
            &generate::public(&leaf_key),
            Some(&ca),
            &ca_key,
        )
        .unwrap();
        let tcb = generate::issue_cert(
            &spec("CN=Shield Sim TCB Signing,O=Shield", &[4], false),
            &generate::public(&tcb_key),
            Some(&root),
            &root_key,
        )
        .unwrap();
        let qe = EnclaveReport {
            mr_signer: QE_MRSIGNER,
            isv_prod_id: 1,
            isv_svn: qe_svn,
            attributes: [0x15, 0, 0, 0, 0, 0, 0, 0, 0xe7, 0, 0, 0, 0, 0, 0, 0],
            ..report(0x11, false, 0)
        };
        Sim {
            root_key,
            root,
            ca_key,
            ca,
            leaf_key,
            leaf,
            tcb_key,
            tcb,
            ak,
            pck,
            qe,
        }
    }

    pub fn chain_pem(&self) -> String {
        [&self.leaf, &self.ca, &self.root]
            .iter()
            .map(|d| generate::cert_pem(d).unwrap())
            .collect::<Vec<_>>()
            .join("")
    }

    pub fn quote(&self, report: &EnclaveReport) -> Vec<u8> {
        self.quote_of(3, &shield_attest::Report::Sgx(report.clone()))
    }

    pub fn quote_of(&self, version: u16, report: &shield_attest::Report) -> Vec<u8> {
        let chain = self.chain_pem();
        generate::build_quote(&QuoteInput {
            version,
            report,
            qe_report: &self.qe,
            attestation_key: &self.ak,
            pck_key: &self.leaf_key,
            qe_auth_data: &[0x5a; 32],
            pck_chain_pem: chain.as_bytes(),
            qe_svn: self.qe.isv_svn,
            pce_svn: self.pck.pce_svn,
            user_data: [0; 20],
        })
        .unwrap()
    }

    pub fn anchors(&self) -> TrustAnchors {
        TrustAnchors::simulation(&[&self.root]).unwrap()
    }

    pub fn tcb_info_json(&self) -> String {
        let level = |c: u8, pce: u16, status: &str, adv: &[&str]| {
            let comps: Vec<String> = (0..16).map(|_| format!("{{\"svn\":{c}}}")).collect();
            let adv: Vec<String> = adv.iter().map(|a| format!("\"{a}\"")).collect();
            format!(
                "{{\"tcb\":{{\"sgxtcbcomponents\":[{}],\"pcesvn\":{pce}}},\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"{status}\",\"advisoryIDs\":[{}]}}",
                comps.join(","),
                adv.join(",")
            )
        };
        let levels = [
            level(5, 10, "UpToDate", &[]),
            level(5, 8, "ConfigurationNeeded", &["INTEL-SA-00010"]),
            level(3, 8, "SWHardeningNeeded", &["INTEL-SA-00001"]),
            level(2, 8, "Revoked", &["INTEL-SA-00666"]),
            level(1, 0, "OutOfDate", &["INTEL-SA-00002", "INTEL-SA-00003"]),
        ];
        format!(
            "{{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"{}\",\"nextUpdate\":\"{}\",\"fmspc\":\"{}\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,\"tcbLevels\":[{}]}}",
            iso(SIM_NOW - DAY),
            iso(SIM_NOW + 30 * DAY),
            hex::encode_upper(self.pck.fmspc),
            levels.join(",")
        )
    }

    pub fn qe_identity_json(&self) -> String {
        format!(
            "{{\"id\":\"QE\",\"version\":2,\"issueDate\":\"{}\",\"nextUpdate\":\"{}\",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\",\"attributes\":\"11000000000000000000000000000000\",\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"{}\",\"isvprodid\":1,\"tcbLevels\":[{{\"tcb\":{{\"isvsvn\":8}},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}},{{\"tcb\":{{\"isvsvn\":6}},\"tcbDate\":\"2021-11-10T00:00:00Z\",\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00615\"]}}]}}",
            iso(SIM_NOW - DAY),
            iso(SIM_NOW + 30 * DAY),
            hex::encode_upper(QE_MRSIGNER)
        )
    }

    /// (tcb_info.json, qe_identity.json, tcb_signing_chain.pem, pck_crl.der, root_crl.der)
    pub fn pcs_parts(&self, revoked_leaf: bool) -> [Vec<u8>; 5] {
        let tcb = self.tcb_info_json();
        let qe = self.qe_identity_json();
        let tcb_file = format!(
            "{{\"tcbInfo\":{tcb},\"signature\":\"{}\"}}",
            hex::encode(generate::sign_json(&tcb, &self.tcb_key))
        );
        let qe_file = format!(
            "{{\"enclaveIdentity\":{qe},\"signature\":\"{}\"}}",
            hex::encode(generate::sign_json(&qe, &self.tcb_key))
        );
        let chain =
            generate::cert_pem(&self.tcb).unwrap() + &generate::cert_pem(&self.root).unwrap();
        let revoked: Vec<&[u8]> = if revoked_leaf {
            vec![&[3u8][..]]
        } else {
            vec![]
        };
        let pck_crl = generate::issue_crl(
            &self.ca,
            &self.ca_key,
            SIM_NOW - DAY,
            SIM_NOW + 30 * DAY,
            &revoked,
        )
        .unwrap();
        let root_crl = generate::issue_crl(
            &self.root,
            &self.root_key,
            SIM_NOW - DAY,
            SIM_NOW + 30 * DAY,
            &[],
        )
        .unwrap();
        [
            tcb_file.into_bytes(),
            qe_file.into_bytes(),
            chain.into_bytes(),
            pck_crl,
            root_crl,
        ]
    }

    pub fn collateral(&self, revoked_leaf: bool) -> Collateral {
        let [t, q, c, p, r] = self.pcs_parts(revoked_leaf);
        Collateral::from_pcs_parts(&t, &q, &c, &p, &r).unwrap()
    }
}

pub fn iso(secs: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}
