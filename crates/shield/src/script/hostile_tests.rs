//! The adversarial-host suite (`shield-hostile`) against the real Lua
//! script enclave: a real bundle per run, served by the real `ScriptHost`,
//! every production OCALL of `enclaves/script.edl` answered with every lie
//! the suite knows, protected-file node lies included. Each run must end
//! in a result that opens with the owner's key (and says what an honest
//! run says, or that the script failed) or in a clean refusal, with no
//! plaintext in anything the host got, and the same enclave must then
//! serve an honest run.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use shield_bundle::RunResult;
use shield_edl::wire::{BridgeError, EcallTransport, Limits};
use shield_host::{Enclave, EnclaveBuilder};
use shield_hostile::{
    Adversary, Config, Input, Interface, NodeCalls, Outcome, Run, Suite, Verdict,
};

use super::REFUSED;
use super::bridge::{self, EcallProxy};
use super::test_support::{Keys, bundle_host, bundle_len};

/// The OCALLs of a bundle run. The development-mode ones (`ocall_dev_*`)
/// carry plaintext by design and serve `shield exec` only.
const PRODUCTION_OCALLS: [&str; 8] = [
    "ocall_read_bundle",
    "ocall_write_result",
    "ocall_read_node",
    "ocall_write_node",
    "ocall_truncate_nodes",
    "ocall_node_count",
    "ocall_unix_time",
    "ocall_cpu_nanos",
];

const SCRIPT_MARKER: &str = "SCRIPT-MARKER-5d1e0a";
const SECRETS: [&str; 2] = ["HOSTILE-SECRET-main-7f3a", "HOSTILE-SECRET-other-91c2"];

/// Reaches every production OCALL: the clock; a protected file of about
/// 60 nodes (more than the 48 the enclave caches, so some are read back
/// from the host) written, rewritten in place and read back; a small one
/// rewritten shorter (truncated).
const SCRIPT: &str = r#"-- SCRIPT-MARKER-5d1e0a
local secret = assert(io.open("secret.txt")):read("a")
local t, c = os.time(), os.clock()
assert(math.type(t) == "integer" and type(c) == "number")
local function fill(name, mode, lines, tag)
  local text = {}
  for i = 1, lines do text[i] = string.format("%05d %s %s\n", i, tag, secret) end
  local f = assert(io.open(name, mode))
  assert(f:write(table.concat(text)))
  assert(f:close())
end
fill("big.txt", "w", 6000, "first")
fill("big.txt", "r+", 6000, "again")
fill("small.txt", "w", 200, "long")
fill("small.txt", "w", 20, "short")
local back = assert(io.open("big.txt")):read("a")
print(#back, back:sub(1, 40))
"#;

/// `ecall_run_bundle`'s status when something around the script failed
/// (`shield_script_enclave::FAILED`).
const FAILED: i32 = -2;

/// A result this large is not expected from the workload.
const MAX_RESULT: u64 = 64 << 20;

struct Fixture {
    keys: Keys,
    work: PathBuf,
    /// The bundles of [`Input::Main`] and [`Input::Other`].
    bundles: [PathBuf; 2],
}

fn fixture() -> Fixture {
    let keys = Keys::new();
    let bundles = [("main", SECRETS[0]), ("other", SECRETS[1])]
        .map(|(name, secret)| keys.bundle(name, &[("main.lua", SCRIPT), ("secret.txt", secret)]));
    Fixture {
        work: keys.workdir("runs"),
        bundles,
        keys,
    }
}

/// ECALLs that keep the host runtime's error, to tell a lost enclave or a
/// panic from a refusal.
struct Keep<'a> {
    enclave: &'a Enclave,
    error: RefCell<Option<shield_host::Error>>,
}

impl EcallTransport for Keep<'_> {
    fn ecall(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        self.enclave.ecall(index, request).map_err(|e| {
            let text = BridgeError::Transport(e.to_string());
            *self.error.borrow_mut() = Some(e);
            text
        })
    }
}

/// The script enclave under attack, relaunched if a run lost it (which
/// the suite reports).
struct Target<'a> {
    fixture: &'a Fixture,
    adversary: &'a Adversary,
    enclave: Option<Enclave>,
    /// What the honest runs of each input printed and wrote.
    expected: [Option<RunResult>; 2],
    runs: usize,
}

impl Target<'_> {
    fn relaunch_if_lost(&mut self) {
        if self.enclave.as_ref().is_none_or(|e| e.lost().is_some()) {
            let launched = EnclaveBuilder::new(&self.fixture.keys.binary)
                .launch(self.adversary.handler())
                .unwrap();
            self.enclave = Some(launched);
        }
    }

    fn run(&mut self, run: &Run<'_>) -> Outcome {
        let which = match run.input() {
            Input::Main => 0,
            Input::Other => 1,
        };
        self.runs += 1;
        let work = self.fixture.work.join(self.runs.to_string());
        std::fs::create_dir_all(&work).unwrap();
        let bundle = &self.fixture.bundles[which];
        let bundle_len = bundle_len(bundle);
        let (host, result_path) = bundle_host(bundle, &work);
        let sealed = self.fixture.keys.sealed.clone();
        self.relaunch_if_lost();
        let keep = Keep {
            enclave: self.enclave.as_ref().expect("launched"),
            error: RefCell::new(None),
        };
        let (mut msg, mut msg_len) = ([0u8; 1024], 0u64);
        let status = run.serve(
            move |index, request| bridge::dispatch_ocall(&host, index, request, Limits::default()),
            || {
                EcallProxy::new(&keep, Limits::default()).ecall_run_bundle(
                    &sealed,
                    bundle_len,
                    b"",
                    &mut msg,
                    &mut msg_len,
                )
            },
        );
        let host_error = keep.error.into_inner();
        let message = msg[..usize::try_from(msg_len).unwrap_or(0).min(msg.len())].to_vec();
        let result = std::fs::read(&result_path).unwrap_or_default();
        let verdict = match status {
            Ok(0) => self.judge(which, run.strategy().is_none(), &result),
            Ok(REFUSED | FAILED) => {
                let text = String::from_utf8_lossy(&message).into_owned();
                if text.contains("panicked") {
                    Verdict::Panicked(text)
                } else {
                    Verdict::Refused(text)
                }
            }
            Ok(other) => Verdict::Fooled(format!("ECALL status {other}")),
            Err(e) => match host_error {
                Some(error) => Verdict::from_host_error(&error),
                None => Verdict::Refused(e.to_string()),
            },
        };
        let _ = std::fs::remove_dir_all(&work);
        Outcome {
            verdict,
            host_saw: vec![result, message],
        }
    }

    /// A result that opens with the owner's key, and either matches the
    /// honest run of the same input or says that the script failed.
    fn judge(&mut self, which: usize, honest: bool, bytes: &[u8]) -> Verdict {
        let opened = match shield_bundle::open_result(bytes, &self.fixture.keys.owner, MAX_RESULT) {
            Ok(opened) => opened.result,
            Err(e) => return Verdict::Fooled(format!("the result does not open: {e}")),
        };
        let succeeded = opened.exit_status == 0 && opened.error.is_none();
        if honest && !succeeded {
            return Verdict::Fooled(format!(
                "an honest run failed: status {}, {:?}",
                opened.exit_status, opened.error
            ));
        }
        if !succeeded {
            return Verdict::Valid;
        }
        let expected = self.expected[which].get_or_insert_with(|| opened.clone());
        let same = (&expected.stdout, &expected.stderr, &expected.files)
            == (&opened.stdout, &opened.stderr, &opened.files);
        if same {
            Verdict::Valid
        } else {
            Verdict::Fooled("a successful result with other contents".into())
        }
    }
}

fn edl() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../enclaves/script.edl")
}

#[test]
fn a_hostile_host_cannot_kill_hang_or_fool_a_bundle_run() {
    let fixture = fixture();
    let nodes = NodeCalls {
        read: "ocall_read_node".into(),
        write: "ocall_write_node".into(),
        present: 1,
        absent: 0,
    };
    let adversary = Adversary::new(Interface::load(edl(), &[]).unwrap(), Some(nodes)).unwrap();
    let config = Config {
        markers: SECRETS
            .iter()
            .chain([&SCRIPT_MARKER])
            .map(|m| m.as_bytes().to_vec())
            .collect(),
        attack: Some(PRODUCTION_OCALLS.map(String::from).to_vec()),
        ..Config::default()
    };
    let mut target = Target {
        fixture: &fixture,
        adversary: &adversary,
        enclave: None,
        expected: [None, None],
        runs: 0,
    };
    let suite = Suite::new(adversary.clone(), config).unwrap();
    let report = suite.run(&mut |run| target.run(run));
    eprintln!("{}", report.summary());
    report.assert_clean();
    assert!(report.records.len() >= 100, "{}", report.summary());
}
