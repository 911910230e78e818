//! The hostile host itself: one OCALL handler, given to the enclave at
//! launch, that passes each call to the honest host of the current run,
//! records it, and answers with the current strategy's lie instead of the
//! honest reply when the strategy says so.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use shield_edl::wire::BridgeError;

use crate::layout::{Interface, LayoutError};
use crate::lie::{self, CallView, Strategy, When};
use crate::nodes::{NodeCalls, Nodes};

/// An honest host's OCALL handler: the generated `dispatch_ocall` bound to
/// the host's `Ocalls` implementation (the shape `shield_host` launches
/// enclaves with).
pub type Honest = dyn Fn(u32, &[u8]) -> Result<Vec<u8>, BridgeError> + Send + Sync;

/// One OCALL as it happened.
#[derive(Debug, Clone)]
pub struct Call {
    /// The OCALL's index.
    pub index: u32,
    /// The enclave's request, byte for byte (what the host learns).
    pub request: Vec<u8>,
    /// The honest host's reply.
    pub honest: Result<Vec<u8>, String>,
    /// Whether the enclave got a lie instead.
    pub lied: bool,
}

/// Every OCALL of one run.
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    /// The calls, in order.
    pub calls: Vec<Call>,
    /// Requests or replies that do not fit the EDL's layout (a bug in the
    /// harness or in generated code; reported as findings).
    pub errors: Vec<String>,
    pub(crate) nodes: Nodes,
}

impl Transcript {
    /// How many times each OCALL (by index) was called.
    pub fn counts(&self) -> BTreeMap<u32, usize> {
        let mut counts = BTreeMap::new();
        for c in &self.calls {
            *counts.entry(c.index).or_default() += 1;
        }
        counts
    }

    /// How many lies the enclave was told.
    pub fn lies_told(&self) -> usize {
        self.calls.iter().filter(|c| c.lied).count()
    }

    /// The honest replies of OCALL `index`, in order.
    fn replies(&self, index: u32) -> impl Iterator<Item = &Vec<u8>> {
        self.calls
            .iter()
            .filter(move |c| c.index == index)
            .filter_map(|c| c.honest.as_ref().ok())
    }
}

struct Session {
    honest: Arc<Honest>,
    strategy: Option<Strategy>,
    other: Arc<Transcript>,
    transcript: Transcript,
    /// Calls past this many are refused: an enclave that keeps asking
    /// (retrying a lie forever) would otherwise hang the suite.
    max_calls: usize,
}

struct Inner {
    interface: Interface,
    nodes: Option<NodeCalls>,
    session: Mutex<Option<Session>>,
}

/// A hostile host for one EDL. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Adversary {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Adversary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adversary")
            .field("ocalls", &self.inner.interface.ocalls().len())
            .field("nodes", &self.inner.nodes)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Adversary {
    /// An adversary for `interface`; `nodes` names its protected-file node
    /// OCALLs, if it has any (their lies are then part of the suite).
    pub fn new(interface: Interface, nodes: Option<NodeCalls>) -> Result<Self, LayoutError> {
        if let Some(n) = &nodes {
            for name in [&n.read, &n.write] {
                if interface.by_name(name).is_none() {
                    return Err(LayoutError(format!("no OCALL named {name}")));
                }
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                interface,
                nodes,
                session: Mutex::new(None),
            }),
        })
    }

    /// The interface attacked.
    pub fn interface(&self) -> &Interface {
        &self.inner.interface
    }

    /// The node OCALLs, if any.
    pub fn node_calls(&self) -> Option<&NodeCalls> {
        self.inner.nodes.as_ref()
    }

    /// The OCALL handler to launch the enclave with
    /// (`EnclaveBuilder::launch(adversary.handler())`). Outside a run it
    /// fails every call.
    pub fn handler(
        &self,
    ) -> impl Fn(u32, &[u8]) -> Result<Vec<u8>, BridgeError> + Send + Sync + 'static {
        let me = self.clone();
        move |index, request| me.answer(index, request)
    }

    fn answer(&self, index: u32, request: &[u8]) -> Result<Vec<u8>, BridgeError> {
        let honest = {
            let mut session = lock(&self.inner.session);
            let session = session
                .as_mut()
                .ok_or_else(|| BridgeError::Transport("no run in progress".into()))?;
            if session.transcript.calls.len() >= session.max_calls {
                if session.transcript.calls.len() == session.max_calls {
                    session.transcript.errors.push(format!(
                        "the enclave made more than {} OCALLs in one run and did not stop \
                         when refused (an endless retry?)",
                        session.max_calls
                    ));
                    session.transcript.calls.push(Call {
                        index,
                        request: request.to_vec(),
                        honest: Err("not asked: too many calls".into()),
                        lied: false,
                    });
                }
                return Err(BridgeError::Transport("the host stops answering".into()));
            }
            session.honest.clone()
        };
        // Not under the lock: the honest host may make a nested ECALL.
        let reply = honest(index, request);
        let mut session = lock(&self.inner.session);
        match session.as_mut() {
            Some(session) => session.answer(&self.inner, index, request, reply),
            None => reply,
        }
    }

    /// Runs `body` (which makes the ECALLs of one run) with `honest`
    /// answering and `strategy` lying, refusing calls past `max_calls`;
    /// returns its value and the run's transcript. `other` is another
    /// run's transcript, for replays.
    pub(crate) fn session<R>(
        &self,
        honest: Arc<Honest>,
        strategy: Option<Strategy>,
        other: Arc<Transcript>,
        max_calls: usize,
        body: impl FnOnce() -> R,
    ) -> (R, Transcript) {
        let mut transcript = Transcript::default();
        transcript.nodes.set_other(&other.nodes);
        *lock(&self.inner.session) = Some(Session {
            honest,
            strategy,
            other,
            transcript,
            max_calls,
        });
        let value = body();
        let session = lock(&self.inner.session).take();
        (value, session.map(|s| s.transcript).unwrap_or_default())
    }
}

impl Session {
    fn answer(
        &mut self,
        inner: &Inner,
        index: u32,
        request: &[u8],
        honest: Result<Vec<u8>, BridgeError>,
    ) -> Result<Vec<u8>, BridgeError> {
        let nth = self
            .transcript
            .calls
            .iter()
            .filter(|c| c.index == index)
            .count();
        let (reply, lied) = match self.lie(inner, index, request, &honest, nth) {
            Ok(Some(lie)) => (lie, true),
            Ok(None) => (honest.clone(), false),
            Err(e) => {
                self.transcript.errors.push(e.0);
                (honest.clone(), false)
            }
        };
        self.transcript.calls.push(Call {
            index,
            request: request.to_vec(),
            honest: honest.map_err(|e| e.to_string()),
            lied,
        });
        reply
    }

    fn lie(
        &mut self,
        inner: &Inner,
        index: u32,
        request: &[u8],
        honest: &Result<Vec<u8>, BridgeError>,
        nth: usize,
    ) -> Result<Option<Result<Vec<u8>, BridgeError>>, LayoutError> {
        let layout = inner
            .interface
            .ocall(index)
            .ok_or_else(|| LayoutError(format!("the enclave called unknown OCALL {index}")))?;
        let decoded = layout.decode_request(request)?;
        if let Some(nodes) = &inner.nodes
            && nodes.write == layout.name
        {
            self.transcript.nodes.record_write(layout, &decoded);
        }
        let Ok(honest) = honest else {
            return Ok(None);
        };
        let fields = layout.reply_fields(&decoded)?;
        let size = fields.last().map_or(0, |f| f.range.end);
        if size != honest.len() {
            return Err(LayoutError(format!(
                "{}: the honest reply has {} bytes, the layout says {size}",
                layout.name,
                honest.len()
            )));
        }
        let Some(strategy) = &self.strategy else {
            return Ok(None);
        };
        let due = match strategy.when {
            When::Nth(n) => n == nth,
            When::Every => true,
        };
        if strategy.index != index || !due {
            return Ok(None);
        }
        let earlier: Vec<Vec<u8>> = self.transcript.replies(index).cloned().collect();
        let view = CallView {
            layout,
            request: &decoded,
            fields: &fields,
            earlier: &earlier,
            other: self.other.replies(index).nth(nth),
            nodes: inner.nodes.as_ref().map(|n| (n, &self.transcript.nodes)),
        };
        Ok(lie::tell(
            &strategy.lie,
            strategy.seed ^ nth as u64,
            &view,
            honest,
        ))
    }
}
