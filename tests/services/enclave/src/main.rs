//! The services test enclave: sealing, protected files (nodes stored by the
//! host through OCALLs, every answer checked) and local attestation, driven
//! by tests/services/host/tests.
#![forbid(unsafe_code)]

mod bridge {
    #![allow(unreachable_pub, missing_docs, dead_code)]
    include!(concat!(env!("OUT_DIR"), "/services_t.rs"));
}

use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::Mutex;

use bridge::{Ecalls, OcallProxy};
use sha2::{Digest, Sha256};
use shield_enclave::services::la::{Initiator, Msg1, Msg2, Msg3, Responder, Session};
use shield_enclave::services::pfs::{FileKey, NODE_SIZE, NodeStore, ProtectedFile};
use shield_enclave::services::{self, Cpu, Error, SealPolicy};
use shield_enclave::wire::Limits;
use shield_sgx::isa::{Report, Targetinfo};
use zeroize::Zeroizing;

/// Error codes returned to the host (the host learns only the kind).
const ERR_INPUT: i32 = -1;
const ERR_MALFORMED: i32 = -2;
const ERR_AUTH: i32 = -3;
const ERR_KEY: i32 = -4;
const ERR_TRUNCATED: i32 = -5;
const ERR_STORE: i32 = -6;
const ERR_OTHER: i32 = -7;
const ERR_STATE: i32 = -8;

fn code(error: &Error) -> i32 {
    match error {
        Error::InvalidInput(_) => ERR_INPUT,
        Error::Malformed(_) => ERR_MALFORMED,
        Error::Authentication(_) => ERR_AUTH,
        Error::Key(_) => ERR_KEY,
        Error::Truncated(_) => ERR_TRUNCATED,
        Error::Store(_) => ERR_STORE,
        _ => ERR_OTHER,
    }
}

fn io_code(error: std::io::Error) -> i32 {
    match error.into_inner().map(|e| e.downcast::<Error>()) {
        Some(Ok(e)) => code(&e),
        _ => ERR_OTHER,
    }
}

/// A protected file's nodes, kept by the host behind four OCALLs. Every
/// answer is checked: statuses must be 0 or 1, a length must be at most the
/// buffer the enclave provided (which the enclave sized, not the host),
/// and the node length itself is checked again by the protected file.
struct OcallStore<'a, 'b> {
    ocalls: &'a OcallProxy<'b>,
    name: &'a str,
}

impl NodeStore for OcallStore<'_, '_> {
    fn read_node(&mut self, index: u64) -> services::Result<Option<Vec<u8>>> {
        let mut buf = vec![0u8; NODE_SIZE];
        let mut len = 0u64;
        let status = self
            .ocalls
            .ocall_read_node(self.name, index, &mut buf, &mut len)
            .map_err(|e| Error::Store(e.to_string()))?;
        match status {
            0 => Ok(None),
            1 => {
                let len = usize::try_from(len)
                    .ok()
                    .filter(|&l| l <= buf.len())
                    .ok_or_else(|| Error::Store(format!("host claims a {len}-byte node")))?;
                buf.truncate(len);
                Ok(Some(buf))
            }
            other => Err(Error::Store(format!("read_node status {other}"))),
        }
    }

    fn write_node(&mut self, index: u64, node: &[u8]) -> services::Result<()> {
        match self.ocalls.ocall_write_node(self.name, index, node) {
            Ok(0) => Ok(()),
            Ok(other) => Err(Error::Store(format!("write_node status {other}"))),
            Err(e) => Err(Error::Store(e.to_string())),
        }
    }

    fn truncate(&mut self, count: u64) -> services::Result<()> {
        match self.ocalls.ocall_truncate_nodes(self.name, count) {
            Ok(0) => Ok(()),
            Ok(other) => Err(Error::Store(format!("truncate status {other}"))),
            Err(e) => Err(Error::Store(e.to_string())),
        }
    }

    fn node_count(&mut self) -> services::Result<u64> {
        let mut count = 0;
        match self.ocalls.ocall_node_count(self.name, &mut count) {
            Ok(0) => Ok(count),
            Ok(other) => Err(Error::Store(format!("node_count status {other}"))),
            Err(e) => Err(Error::Store(e.to_string())),
        }
    }
}

/// The supplied test key (mode 0).
const TEST_KEY: [u8; 16] = [0x5a; 16];

fn file_key(mode: i32) -> Option<FileKey<'static>> {
    static CPU: Cpu = Cpu;
    match mode {
        0 => Some(FileKey::Supplied(Zeroizing::new(TEST_KEY))),
        1 => Some(FileKey::Sealed(&CPU, SealPolicy::MrEnclave)),
        2 => Some(FileKey::Sealed(&CPU, SealPolicy::MrSigner)),
        _ => None,
    }
}

fn open<'a, 'b>(
    ocalls: &'a OcallProxy<'b>,
    name: &'a str,
    mode: i32,
) -> Result<ProtectedFile<OcallStore<'a, 'b>>, i32> {
    let key = file_key(mode).ok_or(ERR_INPUT)?;
    ProtectedFile::open(OcallStore { ocalls, name }, name, key).map_err(|e| code(&e))
}

fn status(result: Result<(), i32>) -> i32 {
    result.err().unwrap_or(0)
}

/// Local-attestation state between ECALLs.
enum La {
    Idle,
    Responder(Responder),
    Initiator(Box<Initiator>),
    Done(Session),
}

static LA: Mutex<La> = Mutex::new(La::Idle);

fn msg1_bytes(msg: &Msg1, out: &mut [u8]) {
    out[..512].copy_from_slice(msg.target_info.as_ref());
    out[512..577].copy_from_slice(&msg.public_key);
}

fn parse_msg1(bytes: &[u8]) -> Option<Msg1> {
    Some(Msg1 {
        target_info: Targetinfo::try_copy_from(bytes.get(..512)?)?,
        public_key: bytes.get(512..577)?.try_into().ok()?,
    })
}

fn parse_msg2(bytes: &[u8]) -> Option<Msg2> {
    Some(Msg2 {
        target_info: Targetinfo::try_copy_from(bytes.get(..512)?)?,
        public_key: bytes.get(512..577)?.try_into().ok()?,
        report: Report::try_copy_from(bytes.get(577..1009)?)?,
    })
}

struct Tests;

impl Ecalls for Tests {
    fn ecall_seal(
        &self,
        _: &OcallProxy<'_>,
        policy: i32,
        data: &[u8],
        aad: &[u8],
        blob: &mut [u8],
        blob_len: &mut u64,
    ) -> i32 {
        let policy = match policy {
            1 => SealPolicy::MrEnclave,
            2 => SealPolicy::MrSigner,
            _ => return ERR_INPUT,
        };
        match services::seal(policy, data, aad) {
            Ok(sealed) if sealed.len() <= blob.len() => {
                blob[..sealed.len()].copy_from_slice(&sealed);
                *blob_len = sealed.len() as u64;
                0
            }
            Ok(_) => ERR_INPUT,
            Err(e) => code(&e),
        }
    }

    fn ecall_unseal(
        &self,
        _: &OcallProxy<'_>,
        blob: &[u8],
        data: &mut [u8],
        data_len: &mut u64,
    ) -> i32 {
        match services::unseal(blob) {
            Ok(unsealed) if unsealed.data.len() <= data.len() => {
                data[..unsealed.data.len()].copy_from_slice(&unsealed.data);
                *data_len = unsealed.data.len() as u64;
                0
            }
            Ok(_) => ERR_INPUT,
            Err(e) => code(&e),
        }
    }

    fn ecall_pf_create(&self, ocalls: &OcallProxy<'_>, name: &str, key_mode: i32) -> i32 {
        let Some(key) = file_key(key_mode) else {
            return ERR_INPUT;
        };
        status(
            ProtectedFile::create(OcallStore { ocalls, name }, name, key)
                .and_then(|f| f.close().map(drop))
                .map_err(|e| code(&e)),
        )
    }

    fn ecall_pf_write(
        &self,
        ocalls: &OcallProxy<'_>,
        name: &str,
        key_mode: i32,
        offset: u64,
        data: &[u8],
    ) -> i32 {
        status((|| {
            let mut file = open(ocalls, name, key_mode)?;
            file.seek(SeekFrom::Start(offset)).map_err(io_code)?;
            file.write_all(data).map_err(io_code)?;
            file.close().map(drop).map_err(|e| code(&e))
        })())
    }

    fn ecall_pf_read(
        &self,
        ocalls: &OcallProxy<'_>,
        name: &str,
        key_mode: i32,
        offset: u64,
        data: &mut [u8],
        got: &mut u64,
    ) -> i32 {
        status((|| {
            let mut file = open(ocalls, name, key_mode)?;
            file.seek(SeekFrom::Start(offset)).map_err(io_code)?;
            let mut done = 0;
            loop {
                let n = file.read(&mut data[done..]).map_err(io_code)?;
                if n == 0 {
                    break;
                }
                done += n;
            }
            *got = done as u64;
            Ok(())
        })())
    }

    fn ecall_pf_set_len(
        &self,
        ocalls: &OcallProxy<'_>,
        name: &str,
        key_mode: i32,
        len: u64,
    ) -> i32 {
        status((|| {
            let mut file = open(ocalls, name, key_mode)?;
            file.set_len(len).map_err(|e| code(&e))?;
            file.close().map(drop).map_err(|e| code(&e))
        })())
    }

    fn ecall_la_start(&self, _: &OcallProxy<'_>, msg1: &mut [u8]) -> i32 {
        match Responder::start(&Cpu) {
            Ok((responder, msg)) => {
                msg1_bytes(&msg, msg1);
                *LA.lock().unwrap_or_else(|e| e.into_inner()) = La::Responder(responder);
                0
            }
            Err(e) => code(&e),
        }
    }

    fn ecall_la_respond(&self, _: &OcallProxy<'_>, msg1: &[u8], msg2: &mut [u8]) -> i32 {
        let Some(msg1) = parse_msg1(msg1) else {
            return ERR_MALFORMED;
        };
        match Initiator::respond(&Cpu, &msg1) {
            Ok((initiator, msg)) => {
                msg2[..512].copy_from_slice(msg.target_info.as_ref());
                msg2[512..577].copy_from_slice(&msg.public_key);
                msg2[577..1009].copy_from_slice(msg.report.as_ref());
                *LA.lock().unwrap_or_else(|e| e.into_inner()) = La::Initiator(Box::new(initiator));
                0
            }
            Err(e) => code(&e),
        }
    }

    fn ecall_la_finish_b(
        &self,
        _: &OcallProxy<'_>,
        msg2: &[u8],
        msg3: &mut [u8],
        peer_mrenclave: &mut [u8],
    ) -> i32 {
        let Some(msg2) = parse_msg2(msg2) else {
            return ERR_MALFORMED;
        };
        let mut state = LA.lock().unwrap_or_else(|e| e.into_inner());
        let La::Responder(responder) = std::mem::replace(&mut *state, La::Idle) else {
            return ERR_STATE;
        };
        match responder.finish(&Cpu, &msg2) {
            Ok((session, msg)) => {
                msg3.copy_from_slice(msg.report.as_ref());
                peer_mrenclave.copy_from_slice(&session.peer.mrenclave);
                *state = La::Done(session);
                0
            }
            Err(e) => code(&e),
        }
    }

    fn ecall_la_finish_a(&self, _: &OcallProxy<'_>, msg3: &[u8], peer_mrenclave: &mut [u8]) -> i32 {
        let Some(report) = Report::try_copy_from(msg3) else {
            return ERR_MALFORMED;
        };
        let mut state = LA.lock().unwrap_or_else(|e| e.into_inner());
        let La::Initiator(initiator) = std::mem::replace(&mut *state, La::Idle) else {
            return ERR_STATE;
        };
        match initiator.finish(&Cpu, &Msg3 { report }) {
            Ok(session) => {
                peer_mrenclave.copy_from_slice(&session.peer.mrenclave);
                *state = La::Done(session);
                0
            }
            Err(e) => code(&e),
        }
    }

    fn ecall_la_mac(&self, _: &OcallProxy<'_>, data: &[u8], mac: &mut [u8]) {
        let state = LA.lock().unwrap_or_else(|e| e.into_inner());
        if let La::Done(session) = &*state {
            let digest = Sha256::new()
                .chain_update(&session.key[..])
                .chain_update(data)
                .finalize();
            mac.copy_from_slice(&digest);
        }
    }
}

fn main() {
    shield_enclave::run(
        |ocalls: &dyn shield_enclave::wire::OcallTransport, caller, index, request: &[u8]| {
            bridge::dispatch_ecall(&Tests, ocalls, caller, index, request, Limits::default())
        },
    );
}
