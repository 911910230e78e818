//! The suite: a reference run, a run with other inputs (whose answers are
//! replayed), then one run per strategy, each that did not end in a valid
//! result followed by an honest run that must still succeed on the same
//! enclave; every outcome checked.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use shield_edl::wire::BridgeError;

use crate::adversary::{Adversary, Honest, Transcript};
use crate::layout::LayoutError;
use crate::lie::{Lie, Strategy, When, lies_for};
use crate::nodes::NodeLie;

/// The seed used unless `SHIELD_HOSTILE_SEED` says otherwise.
pub const DEFAULT_SEED: u64 = 0x5eed_0b57_11e5_0001;

/// Which inputs a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The inputs every run but one uses.
    Main,
    /// Other inputs (another bundle, other data), for the run whose
    /// answers are replayed into the others: "bytes from another run".
    Other,
}

/// How a run ended, as the enclave author's job judges it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A result that checks out: it opens with the owner's key and says
    /// what an honest run says, or says that the run failed.
    Valid,
    /// A clean refusal: no result, and the enclave said why.
    Refused(String),
    /// A result that does not check out, or that claims success with
    /// other contents: the enclave was fooled.
    Fooled(String),
    /// The enclave panicked (the runtime turned it into an error reply).
    Panicked(String),
    /// The enclave is gone.
    Lost(String),
}

/// What the runtime's error reply says when an ECALL panicked
/// (`shield_enclave`'s dispatcher).
const PANIC_PREFIX: &str = "enclave panicked";

impl Verdict {
    /// The verdict on an ECALL that failed in the host runtime.
    pub fn from_host_error(error: &shield_host::Error) -> Self {
        match error {
            shield_host::Error::EnclaveLost(reason) => Verdict::Lost(reason.to_string()),
            shield_host::Error::EcallFailed { reason, .. } if reason.starts_with(PANIC_PREFIX) => {
                Verdict::Panicked(reason.clone())
            }
            other => Verdict::Refused(other.to_string()),
        }
    }

    /// Whether the enclave held: a valid result or a clean refusal.
    pub fn held(&self) -> bool {
        matches!(self, Verdict::Valid | Verdict::Refused(_))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Valid => write!(f, "valid result"),
            Verdict::Refused(why) => write!(f, "refused: {why}"),
            Verdict::Fooled(why) => write!(f, "FOOLED: {why}"),
            Verdict::Panicked(why) => write!(f, "PANICKED: {why}"),
            Verdict::Lost(why) => write!(f, "LOST: {why}"),
        }
    }
}

/// A run's verdict and every byte the host got besides the OCALL requests
/// (which the adversary records itself): the result, error messages, ...
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The verdict.
    pub verdict: Verdict,
    /// What else the host received.
    pub host_saw: Vec<Vec<u8>>,
}

/// One run, handed to the job.
pub struct Run<'a> {
    adversary: &'a Adversary,
    input: Input,
    strategy: Option<Strategy>,
    other: Arc<Transcript>,
    max_calls: usize,
    transcript: RefCell<Option<Transcript>>,
}

impl fmt::Debug for Run<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("input", &self.input)
            .field("strategy", &self.strategy)
            .finish_non_exhaustive()
    }
}

impl Run<'_> {
    /// The inputs to use.
    pub fn input(&self) -> Input {
        self.input
    }

    /// The lie of this run (`None`: an honest run).
    pub fn strategy(&self) -> Option<&Strategy> {
        self.strategy.as_ref()
    }

    /// Makes the run: `body` makes the ECALLs while `honest` (a fresh
    /// honest host for this run) answers through the adversary.
    pub fn serve<R>(
        &self,
        honest: impl Fn(u32, &[u8]) -> Result<Vec<u8>, BridgeError> + Send + Sync + 'static,
        body: impl FnOnce() -> R,
    ) -> R {
        let honest: Arc<Honest> = Arc::new(honest);
        let (value, transcript) = self.adversary.session(
            honest,
            self.strategy.clone(),
            self.other.clone(),
            self.max_calls,
            body,
        );
        *self.transcript.borrow_mut() = Some(transcript);
        value
    }
}

/// What the suite does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seeds the choice of calls, random bytes and the sample of
    /// strategies.
    pub seed: u64,
    /// At most this many strategies (sampled evenly across OCALLs).
    pub max_strategies: usize,
    /// The size of the oversized reply: the largest the host runtime can
    /// send (the channel capacity) is the harshest.
    pub oversize: usize,
    /// Plaintext that must appear in nothing the host receives.
    pub markers: Vec<Vec<u8>>,
    /// The OCALLs to attack, by name (`None`: all of them). Every one
    /// named must be reached by the reference run.
    pub attack: Option<Vec<String>>,
    /// A run still going after this long is taken for a hang: the suite
    /// names it and ends the process (a hung enclave cannot be
    /// interrupted from inside the job).
    pub run_timeout: Duration,
}

impl Default for Config {
    /// `seed` from `SHIELD_HOSTILE_SEED` (decimal) or [`DEFAULT_SEED`],
    /// at most 400 strategies, 16 MiB − 128 bytes oversized replies (the
    /// default channel's whole payload), no markers, every OCALL, and
    /// five minutes before a run counts as hung.
    fn default() -> Self {
        let seed = std::env::var("SHIELD_HOSTILE_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(DEFAULT_SEED);
        Self {
            seed,
            max_strategies: 400,
            oversize: (16 << 20) - 128,
            markers: Vec::new(),
            attack: None,
            run_timeout: Duration::from_secs(300),
        }
    }
}

/// One hostile run and what came of it.
#[derive(Debug, Clone)]
pub struct Record {
    /// The strategy.
    pub strategy: Strategy,
    /// Lies actually told (0: the run never reached the call).
    pub lies_told: usize,
    /// The verdict.
    pub verdict: Verdict,
}

/// Everything the suite saw.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The seed (rerun with `SHIELD_HOSTILE_SEED` to reproduce).
    pub seed: u64,
    /// One record per strategy.
    pub records: Vec<Record>,
    /// Broken promises: each one a failure.
    pub findings: Vec<String>,
}

impl Report {
    /// Lies told and verdicts, per OCALL.
    pub fn summary(&self) -> String {
        let mut per: BTreeMap<&str, (usize, usize, usize, usize)> = BTreeMap::new();
        for r in &self.records {
            let e = per.entry(&r.strategy.ocall).or_default();
            e.0 += 1;
            if r.lies_told > 0 {
                e.1 += 1;
            }
            match r.verdict {
                Verdict::Valid => e.2 += 1,
                Verdict::Refused(_) => e.3 += 1,
                _ => {}
            }
        }
        let mut out = format!("seed {}: {} strategies\n", self.seed, self.records.len());
        for (name, (n, told, valid, refused)) in per {
            out.push_str(&format!(
                "  {name}: {n} strategies, {told} told, {valid} valid, {refused} refused\n"
            ));
        }
        for f in &self.findings {
            out.push_str(&format!("  FINDING: {f}\n"));
        }
        out
    }

    /// Panics with every finding, if there are any.
    #[track_caller]
    pub fn assert_clean(&self) {
        assert!(
            self.findings.is_empty(),
            "the enclave did not hold against a hostile host (reproduce with SHIELD_HOSTILE_SEED={}):\n{}",
            self.seed,
            self.summary()
        );
    }
}

/// The adversarial-host suite for one enclave.
#[derive(Debug)]
pub struct Suite {
    adversary: Adversary,
    config: Config,
}

impl Suite {
    /// A suite attacking through `adversary` (the enclave must have been
    /// launched with its [`Adversary::handler`]).
    pub fn new(adversary: Adversary, config: Config) -> Result<Self, LayoutError> {
        for name in config.attack.iter().flatten() {
            if adversary.interface().by_name(name).is_none() {
                return Err(LayoutError(format!("no OCALL named {name} to attack")));
            }
        }
        Ok(Self { adversary, config })
    }

    fn one(
        &self,
        watchdog: &Sender<Option<String>>,
        job: &mut dyn FnMut(&Run<'_>) -> Outcome,
        input: Input,
        strategy: Option<Strategy>,
        other: &Arc<Transcript>,
    ) -> (Outcome, Transcript) {
        // Honest runs set the bound (they end by themselves); a hostile
        // one may take ten times their calls, retries included.
        let max_calls = match other.calls.len() {
            0 => usize::MAX,
            n => n.saturating_mul(10).saturating_add(1000),
        };
        let what = strategy
            .as_ref()
            .map_or_else(|| format!("an honest run ({input:?})"), Strategy::to_string);
        let run = Run {
            adversary: &self.adversary,
            input,
            strategy,
            other: other.clone(),
            max_calls,
            transcript: RefCell::new(None),
        };
        let _ = watchdog.send(Some(what));
        let outcome = job(&run);
        let _ = watchdog.send(None);
        let transcript = run.transcript.into_inner().unwrap_or_default();
        (outcome, transcript)
    }

    /// Markers found in what the host received.
    fn leaks(&self, outcome: &Outcome, transcript: &Transcript) -> Vec<String> {
        let seen = transcript
            .calls
            .iter()
            .map(|c| &c.request)
            .chain(&outcome.host_saw);
        let mut leaks = Vec::new();
        for bytes in seen {
            for m in &self.config.markers {
                if !m.is_empty() && bytes.windows(m.len()).any(|w| w == m.as_slice()) {
                    leaks.push(String::from_utf8_lossy(m).into_owned());
                }
            }
        }
        leaks.sort();
        leaks.dedup();
        leaks
    }

    fn check(&self, what: &str, outcome: &Outcome, transcript: &Transcript, out: &mut Report) {
        if !outcome.verdict.held() {
            out.findings.push(format!("{what}: {}", outcome.verdict));
        }
        for leak in self.leaks(outcome, transcript) {
            out.findings
                .push(format!("{what}: the host received plaintext {leak:?}"));
        }
        for e in &transcript.errors {
            out.findings.push(format!("{what}: {e}"));
        }
    }

    /// Runs the suite. `job` makes one run of the enclave as the
    /// [`Run`] says (inputs, via [`Run::serve`]) and judges it.
    pub fn run(&self, job: &mut dyn FnMut(&Run<'_>) -> Outcome) -> Report {
        let mut report = Report {
            seed: self.config.seed,
            ..Report::default()
        };
        let watchdog = watchdog(self.config.run_timeout);
        let none = Arc::new(Transcript::default());
        let (outcome, reference) = self.one(&watchdog, job, Input::Main, None, &none);
        self.check(
            "the honest reference run",
            &outcome,
            &reference,
            &mut report,
        );
        let (outcome, other) = self.one(&watchdog, job, Input::Other, None, &none);
        self.check(
            "the honest run with other inputs",
            &outcome,
            &other,
            &mut report,
        );
        if outcome.verdict != Verdict::Valid || !report.findings.is_empty() {
            report
                .findings
                .push("the honest runs must give valid results".into());
            return report;
        }
        let other = Arc::new(other);
        let strategies = match self.plan(&reference, &other) {
            Ok(s) => s,
            Err(e) => {
                report.findings.push(e.0);
                return report;
            }
        };
        let last = strategies.len().saturating_sub(1);
        for (i, strategy) in strategies.into_iter().enumerate() {
            let what = strategy.to_string();
            let (outcome, transcript) =
                self.one(&watchdog, job, Input::Main, Some(strategy.clone()), &other);
            self.check(&what, &outcome, &transcript, &mut report);
            // A run that ended in a valid result left the enclave as an
            // honest run does; one that stopped part-way must show that
            // the enclave still serves, and so must the last.
            if outcome.verdict != Verdict::Valid || i == last {
                let (probe, probe_transcript) = self.one(&watchdog, job, Input::Main, None, &other);
                if probe.verdict != Verdict::Valid {
                    report.findings.push(format!(
                        "{what}: the next honest run on the enclave: {}",
                        probe.verdict
                    ));
                }
                self.check(&what, &probe, &probe_transcript, &mut report);
            }
            report.records.push(Record {
                strategy,
                lies_told: transcript.lies_told(),
                verdict: outcome.verdict,
            });
        }
        self.coverage(&mut report);
        report
    }

    fn attacked(&self, name: &str) -> bool {
        self.config
            .attack
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// Every strategy for the OCALLs the reference run reached, sampled
    /// down to `max_strategies` evenly across OCALLs.
    fn plan(
        &self,
        reference: &Transcript,
        other: &Transcript,
    ) -> Result<Vec<Strategy>, LayoutError> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        let counts = reference.counts();
        let other_counts = other.counts();
        let mut per_ocall: Vec<Vec<Strategy>> = Vec::new();
        for layout in self.adversary.interface().ocalls() {
            if !self.attacked(&layout.name) {
                continue;
            }
            let n = counts.get(&layout.index).copied().unwrap_or(0);
            let Some(first) = reference.calls.iter().find(|c| c.index == layout.index) else {
                return Err(LayoutError(format!(
                    "{} is never called by the reference run: give the job inputs that reach it, \
                     or leave it out of `attack`",
                    layout.name
                )));
            };
            let fields = layout.reply_fields(&layout.decode_request(&first.request)?)?;
            let mut list = Vec::new();
            let mut push = |when, lie, rng: &mut ChaCha8Rng| {
                list.push(Strategy {
                    ocall: layout.name.clone(),
                    index: layout.index,
                    when,
                    lie,
                    seed: rng.next_u64(),
                });
            };
            for lie in lies_for(&fields, self.config.oversize) {
                let calls = match lie {
                    Lie::Replayed => n.min(other_counts.get(&layout.index).copied().unwrap_or(0)),
                    _ => n,
                };
                // A stale answer needs an earlier one.
                let first_call = usize::from(lie == Lie::Stale);
                if calls <= first_call {
                    continue;
                }
                let nth = first_call + (rng.next_u64() % (calls - first_call) as u64) as usize;
                push(When::Nth(nth), lie, &mut rng);
            }
            push(When::Every, Lie::Error, &mut rng);
            // "Nothing" for ever: an enclave that retries must give up.
            for f in fields.iter().filter(|f| f.scalar.is_some()) {
                if f.name != "return" && f.name != "errno" {
                    let lie = Lie::Scalar {
                        field: f.name.clone(),
                        value: 0,
                    };
                    push(When::Every, lie, &mut rng);
                }
            }
            for f in fields.iter().filter(|f| f.scalar.is_none()) {
                let lie = Lie::Random {
                    field: f.name.clone(),
                };
                push(When::Every, lie, &mut rng);
            }
            if self
                .adversary
                .node_calls()
                .is_some_and(|n| n.read == layout.name)
            {
                for lie in NodeLie::ALL {
                    push(When::Every, Lie::Node(lie), &mut rng);
                }
            }
            per_ocall.push(list);
        }
        Ok(sample(per_ocall, self.config.max_strategies, &mut rng))
    }

    /// Findings for OCALLs (and node lies) no lie ever reached.
    fn coverage(&self, report: &mut Report) {
        let mut told: BTreeMap<String, usize> = BTreeMap::new();
        for r in &report.records {
            let key = match &r.strategy.lie {
                Lie::Node(n) => format!("{}: {n}", r.strategy.ocall),
                _ => r.strategy.ocall.clone(),
            };
            *told.entry(key).or_default() += r.lies_told;
        }
        for (what, n) in told {
            if n == 0 {
                report.findings.push(format!(
                    "{what}: no lie was ever told (the workload does not reach it)"
                ));
            }
        }
    }
}

/// Ends the process when a run, announced as `Some(name)`, is not over
/// (`None`) within `timeout`; stops when the sender is dropped.
fn watchdog(timeout: Duration) -> Sender<Option<String>> {
    let (tx, rx) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        let mut current: Option<String> = None;
        loop {
            let next = match &current {
                Some(_) => rx.recv_timeout(timeout),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            match next {
                Ok(run) => current = run,
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    eprintln!(
                        "shield-hostile: {} has run for more than {timeout:?}: the enclave hangs",
                        current.unwrap_or_default()
                    );
                    std::process::exit(101);
                }
            }
        }
    });
    tx
}

/// At most `max` strategies, taken round-robin from each OCALL's seeded
/// shuffle, so that every OCALL keeps its share.
fn sample(mut lists: Vec<Vec<Strategy>>, max: usize, rng: &mut ChaCha8Rng) -> Vec<Strategy> {
    let total: usize = lists.iter().map(Vec::len).sum();
    if total <= max {
        return lists.into_iter().flatten().collect();
    }
    for list in &mut lists {
        for i in (1..list.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            list.swap(i, j);
        }
        list.reverse();
    }
    let mut out = Vec::with_capacity(max);
    while out.len() < max {
        for list in &mut lists {
            if out.len() < max
                && let Some(s) = list.pop()
            {
                out.push(s);
            }
        }
    }
    out
}
