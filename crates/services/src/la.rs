//! Local attestation: enclave A proves its identity to enclave B on the same
//! platform, B proves its own back, and both agree on a session key bound to
//! both identities.
//!
//! # Protocol (ECDH P-256 with the public keys in the reports' data)
//!
//! ```text
//! B → A  msg1 = TARGETINFO_B, Pb                     (Pb: B's fresh ephemeral key)
//! A → B  msg2 = TARGETINFO_A, Pa, REPORT_A           REPORT_A targets B, data = H("A" ‖ Pa ‖ Pb)
//! B → A  msg3 = REPORT_B                             REPORT_B targets A, data = H("B" ‖ Pb ‖ Pa)
//! key = SHA-256("shield-la-v1" ‖ ECDH(a, Pb) ‖ MRENCLAVE_A ‖ MRSIGNER_A ‖ MRENCLAVE_B ‖ MRSIGNER_B ‖ Pa ‖ Pb)
//! ```
//!
//! Why it is sound: a report's MAC is under the *target's* report key, which
//! only the target enclave can get from EGETKEY on this CPU, so when B's
//! [`verify_report`] accepts REPORT_A, the identity in it is an enclave's on
//! this platform, and that enclave chose the report data. The data binds
//! A's public key (so a man in the middle cannot substitute his own) and
//! B's fresh key (so an old report cannot be replayed into a new session);
//! symmetrically for B. The private halves never leave the enclaves, so
//! only A and B know the ECDH secret, and the key also binds both
//! identities. The host carries the messages and can only drop or corrupt
//! them, which makes the handshake fail. We chose this over the SDK's
//! DH-with-CMAC protocol because the report data then carries the whole
//! binding, with no extra MAC layer to get right. The application must
//! still decide whether the *peer's identity* is acceptable
//! ([`PeerIdentity`] is returned for that), as with any attestation.

use aes::Aes128;
use cmac::{Cmac, Mac};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use shield_sgx::isa::{Miscselect, Report, Targetinfo};
use shield_sgx::keys::{KeyName, key_request};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{Error, KeySource, Result, random};

/// SEC 1 uncompressed P-256 point length.
pub const PUBLIC_KEY_LEN: usize = 65;

/// `report(target_info, report_data)`: EREPORT.
pub fn report(keys: &dyn KeySource, target: &Targetinfo, report_data: &[u8; 64]) -> Result<Report> {
    keys.ereport(target, report_data)
}

/// `verify_report(report)`: checks, as its target, that `report` was made on
/// this platform for this enclave (EGETKEY(REPORT, report.KEYID), then
/// AES-128-CMAC compared in constant time).
pub fn verify_report(keys: &dyn KeySource, report: &Report) -> Result<()> {
    let request = key_request(KeyName::Report, 0, 0, [0; 16], report.keyid);
    let key = keys.egetkey(&request)?;
    let mut mac = <Cmac<Aes128> as cmac::digest::KeyInit>::new((&*key).into());
    mac.update(report.mac_data());
    let expected: [u8; 16] = mac.finalize().into_bytes().into();
    if bool::from(expected.ct_eq(&report.mac)) {
        Ok(())
    } else {
        Err(Error::Authentication("the report's MAC does not verify"))
    }
}

/// This enclave's TARGETINFO (from a report about itself).
pub fn own_target_info(keys: &dyn KeySource) -> Result<Targetinfo> {
    let own = keys.ereport(&Targetinfo::default(), &[0; 64])?;
    Ok(Targetinfo {
        measurement: own.mrenclave,
        attributes: own.attributes,
        miscselect: Miscselect::from_bits_truncate(own.miscselect.bits()),
        ..Targetinfo::default()
    })
}

/// The identity a verified peer report carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerIdentity {
    /// MRENCLAVE.
    pub mrenclave: [u8; 32],
    /// MRSIGNER.
    pub mrsigner: [u8; 32],
    /// ISVPRODID.
    pub isvprodid: u16,
    /// ISVSVN.
    pub isvsvn: u16,
}

impl PeerIdentity {
    fn of(report: &Report) -> Self {
        PeerIdentity {
            mrenclave: report.mrenclave,
            mrsigner: report.mrsigner,
            isvprodid: report.isvprodid,
            isvsvn: report.isvsvn,
        }
    }
}

/// An established session: the peer's identity and the shared key.
#[derive(Debug)]
pub struct Session {
    /// Who the peer is (decide whether you accept it).
    pub peer: PeerIdentity,
    /// The 256-bit session key.
    pub key: Zeroizing<[u8; 32]>,
}

/// B → A.
#[derive(Debug, Clone)]
pub struct Msg1 {
    /// B's TARGETINFO.
    pub target_info: Targetinfo,
    /// B's ephemeral public key (SEC 1 uncompressed).
    pub public_key: [u8; PUBLIC_KEY_LEN],
}

/// A → B.
#[derive(Debug, Clone)]
pub struct Msg2 {
    /// A's TARGETINFO.
    pub target_info: Targetinfo,
    /// A's ephemeral public key.
    pub public_key: [u8; PUBLIC_KEY_LEN],
    /// A's report for B.
    pub report: Report,
}

/// B → A.
#[derive(Debug, Clone)]
pub struct Msg3 {
    /// B's report for A.
    pub report: Report,
}

fn ephemeral() -> Result<(SecretKey, [u8; PUBLIC_KEY_LEN])> {
    for _ in 0..16 {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random(&mut bytes[..]);
        if let Ok(secret) = SecretKey::from_slice(&bytes[..]) {
            let point = secret.public_key().to_sec1_point(false);
            let public: [u8; PUBLIC_KEY_LEN] = point
                .as_bytes()
                .try_into()
                .map_err(|_| Error::Malformed("public key encoding"))?;
            return Ok((secret, public));
        }
    }
    Err(Error::Key("no valid P-256 scalar from the RNG".into()))
}

fn binding(role: &[u8; 1], own: &[u8; PUBLIC_KEY_LEN], peer: &[u8; PUBLIC_KEY_LEN]) -> [u8; 64] {
    let mut data = [0u8; 64];
    let digest = Sha256::new()
        .chain_update(b"shield-la-v1 ")
        .chain_update(role)
        .chain_update(own)
        .chain_update(peer)
        .finalize();
    data[..32].copy_from_slice(&digest);
    data
}

fn session_key(
    secret: &SecretKey,
    peer_public: &[u8; PUBLIC_KEY_LEN],
    a: (&[u8; 32], &[u8; 32]),
    b: (&[u8; 32], &[u8; 32]),
    pa: &[u8; PUBLIC_KEY_LEN],
    pb: &[u8; PUBLIC_KEY_LEN],
) -> Result<Zeroizing<[u8; 32]>> {
    let peer = PublicKey::from_sec1_bytes(peer_public)
        .map_err(|_| Error::Malformed("peer public key is not a P-256 point"))?;
    let shared = secret.diffie_hellman(&peer);
    let digest = Sha256::new()
        .chain_update(b"shield-la-v1")
        .chain_update(shared.raw_secret_bytes())
        .chain_update(a.0)
        .chain_update(a.1)
        .chain_update(b.0)
        .chain_update(b.1)
        .chain_update(pa)
        .chain_update(pb)
        .finalize();
    Ok(Zeroizing::new(digest.into()))
}

/// B, the side that verifies first.
#[derive(Debug)]
pub struct Responder {
    secret: SecretKey,
    public: [u8; PUBLIC_KEY_LEN],
}

impl Responder {
    /// Starts a handshake: a fresh key pair and msg1.
    pub fn start(keys: &dyn KeySource) -> Result<(Self, Msg1)> {
        let (secret, public) = ephemeral()?;
        let msg1 = Msg1 {
            target_info: own_target_info(keys)?,
            public_key: public,
        };
        Ok((Responder { secret, public }, msg1))
    }

    /// Verifies A's msg2 and answers with msg3; the session is established
    /// on B's side.
    pub fn finish(self, keys: &dyn KeySource, msg2: &Msg2) -> Result<(Session, Msg3)> {
        verify_report(keys, &msg2.report)?;
        let expected = binding(b"A", &msg2.public_key, &self.public);
        if !bool::from(expected.ct_eq(&msg2.report.reportdata)) {
            return Err(Error::Authentication(
                "A's report does not bind this session's keys",
            ));
        }
        let own = keys.ereport(
            &msg2.target_info,
            &binding(b"B", &self.public, &msg2.public_key),
        )?;
        let peer = PeerIdentity::of(&msg2.report);
        let key = session_key(
            &self.secret,
            &msg2.public_key,
            (&peer.mrenclave, &peer.mrsigner),
            (&own.mrenclave, &own.mrsigner),
            &msg2.public_key,
            &self.public,
        )?;
        Ok((Session { peer, key }, Msg3 { report: own }))
    }
}

/// A, the side that proves first.
#[derive(Debug)]
pub struct Initiator {
    secret: SecretKey,
    public: [u8; PUBLIC_KEY_LEN],
    peer_public: [u8; PUBLIC_KEY_LEN],
    own: Report,
}

impl Initiator {
    /// Answers B's msg1 with msg2.
    pub fn respond(keys: &dyn KeySource, msg1: &Msg1) -> Result<(Self, Msg2)> {
        PublicKey::from_sec1_bytes(&msg1.public_key)
            .map_err(|_| Error::Malformed("peer public key is not a P-256 point"))?;
        let (secret, public) = ephemeral()?;
        let report = keys.ereport(&msg1.target_info, &binding(b"A", &public, &msg1.public_key))?;
        let msg2 = Msg2 {
            target_info: own_target_info(keys)?,
            public_key: public,
            report: report.clone(),
        };
        Ok((
            Initiator {
                secret,
                public,
                peer_public: msg1.public_key,
                own: report,
            },
            msg2,
        ))
    }

    /// Verifies B's msg3; the session is established on A's side.
    pub fn finish(self, keys: &dyn KeySource, msg3: &Msg3) -> Result<Session> {
        verify_report(keys, &msg3.report)?;
        let expected = binding(b"B", &self.peer_public, &self.public);
        if !bool::from(expected.ct_eq(&msg3.report.reportdata)) {
            return Err(Error::Authentication(
                "B's report does not bind this session's keys",
            ));
        }
        let peer = PeerIdentity::of(&msg3.report);
        let key = session_key(
            &self.secret,
            &self.peer_public,
            (&self.own.mrenclave, &self.own.mrsigner),
            (&peer.mrenclave, &peer.mrsigner),
            &self.public,
            &self.peer_public,
        )?;
        Ok(Session { peer, key })
    }
}

#[cfg(test)]
mod tests;
