//! What a hostile host says instead of the truth, and how a lie is made
//! out of the honest answer.

use std::fmt;

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use shield_edl::wire::BridgeError;

use crate::layout::{Field, OcallLayout, Request};
use crate::nodes::{NodeCalls, NodeLie, Nodes};

/// One lie, told in place of an OCALL's honest reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lie {
    /// The host fails the call: the enclave's proxy gets a transport error.
    Error,
    /// The reply without its last byte.
    Truncated,
    /// An empty reply.
    Empty,
    /// The reply with one byte too many.
    Trailing,
    /// The reply padded with zeros to this many bytes (at most the
    /// channel's capacity: the biggest answer a host can give).
    Oversized(usize),
    /// A scalar field (return value, errno or `[out]` scalar) set to this
    /// bit pattern.
    Scalar {
        /// The field's name (`return`, `errno` or the parameter).
        field: String,
        /// The value, cut to the field's width.
        value: i128,
    },
    /// A scalar field set to the size in bytes of all `[out]` buffers of
    /// the call, plus `extra`: a length claiming the whole buffer (0) or
    /// one byte more than it (1).
    Length {
        /// The field's name.
        field: String,
        /// Added to the buffers' size.
        extra: i128,
    },
    /// A buffer field filled with seeded random bytes.
    Random {
        /// The field's name.
        field: String,
    },
    /// A buffer field zeroed.
    Zeroed {
        /// The field's name.
        field: String,
    },
    /// The honest answer to the previous call of the same OCALL in this run.
    Stale,
    /// The answer the same call got in another run (with other inputs).
    Replayed,
    /// A protected-file node lie (see [`NodeLie`]).
    Node(NodeLie),
}

impl fmt::Display for Lie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lie::Error => write!(f, "fails the call"),
            Lie::Truncated => write!(f, "drops the reply's last byte"),
            Lie::Empty => write!(f, "sends an empty reply"),
            Lie::Trailing => write!(f, "adds a byte to the reply"),
            Lie::Oversized(n) => write!(f, "pads the reply to {n} bytes"),
            Lie::Scalar { field, value } => write!(f, "sets {field} to {value:#x}"),
            Lie::Length { field, extra } => {
                write!(f, "sets {field} to the [out] buffers' size + {extra}")
            }
            Lie::Random { field } => write!(f, "fills {field} with random bytes"),
            Lie::Zeroed { field } => write!(f, "zeroes {field}"),
            Lie::Stale => write!(f, "repeats its previous answer"),
            Lie::Replayed => write!(f, "replays another run's answer"),
            Lie::Node(n) => write!(f, "{n}"),
        }
    }
}

/// Which calls of the OCALL are answered with the lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The call with this number (0-based) among calls of the OCALL.
    Nth(usize),
    /// Every call (node lies: every call where the lie can be told).
    Every,
}

/// One lie, where and when it is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strategy {
    /// The OCALL's name.
    pub ocall: String,
    /// Its index.
    pub index: u32,
    /// Which of its calls.
    pub when: When,
    /// The lie.
    pub lie: Lie,
    /// Seeds the random bytes of [`Lie::Random`].
    pub seed: u64,
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.when {
            When::Nth(n) => write!(f, "{} call #{n}: the host {}", self.ocall, self.lie),
            When::Every => write!(f, "{} every call: the host {}", self.ocall, self.lie),
        }
    }
}

/// What one call looked like, as far as a lie needs it.
pub(crate) struct CallView<'a> {
    pub(crate) layout: &'a OcallLayout,
    pub(crate) request: &'a Request,
    pub(crate) fields: &'a [Field],
    /// Earlier honest replies of this OCALL in this run.
    pub(crate) earlier: &'a [Vec<u8>],
    /// The reply the same call got in the other run, if it made one.
    pub(crate) other: Option<&'a Vec<u8>>,
    pub(crate) nodes: Option<(&'a NodeCalls, &'a Nodes)>,
}

/// Tells `lie` about one call whose honest reply is `honest`. `None` when
/// the lie cannot be told here (no earlier answer to repeat, say).
pub(crate) fn tell(
    lie: &Lie,
    seed: u64,
    call: &CallView<'_>,
    honest: &[u8],
) -> Option<Result<Vec<u8>, BridgeError>> {
    let field = |name: &str| call.fields.iter().find(|f| f.name == name);
    let mut reply = honest.to_vec();
    match lie {
        Lie::Error => {
            return Some(Err(BridgeError::Transport(
                "the host refuses this call".into(),
            )));
        }
        Lie::Truncated => {
            reply.pop()?;
        }
        Lie::Empty => reply.clear(),
        Lie::Trailing => reply.push(0),
        Lie::Oversized(n) => reply.resize((*n).max(reply.len() + 1), 0),
        Lie::Scalar { field: name, value } => {
            let f = field(name)?;
            f.scalar?.write(*value, &mut reply[f.range.clone()]);
        }
        Lie::Length { field: name, extra } => {
            let f = field(name)?;
            let buffers: usize = call
                .fields
                .iter()
                .filter(|f| f.scalar.is_none())
                .map(|f| f.range.len())
                .sum();
            let value = i128::try_from(buffers).ok()? + extra;
            f.scalar?.write(value, &mut reply[f.range.clone()]);
        }
        Lie::Random { field: name } => {
            let f = field(name)?;
            ChaCha8Rng::seed_from_u64(seed).fill_bytes(&mut reply[f.range.clone()]);
        }
        Lie::Zeroed { field: name } => {
            let f = field(name)?;
            reply[f.range.clone()].fill(0);
        }
        Lie::Stale => reply = call.earlier.last()?.clone(),
        Lie::Replayed => reply = call.other?.clone(),
        Lie::Node(lie) => {
            let (calls, nodes) = call.nodes?;
            reply = nodes.tell(*lie, calls, call, honest)?;
        }
    }
    Some(Ok(reply))
}

/// Every lie that can be told about an OCALL whose honest replies have
/// these fields.
pub(crate) fn lies_for(fields: &[Field], oversize: usize) -> Vec<Lie> {
    let mut lies = vec![
        Lie::Error,
        Lie::Truncated,
        Lie::Empty,
        Lie::Trailing,
        Lie::Oversized(oversize),
        Lie::Stale,
        Lie::Replayed,
    ];
    let has_buffers = fields.iter().any(|f| f.scalar.is_none());
    for f in fields {
        match f.scalar {
            Some(s) => {
                let mut values: Vec<i128> = s.extremes().to_vec();
                values.dedup();
                lies.extend(values.into_iter().map(|value| Lie::Scalar {
                    field: f.name.clone(),
                    value,
                }));
                if has_buffers && f.name != "return" && f.name != "errno" {
                    lies.extend([0, 1].map(|extra| Lie::Length {
                        field: f.name.clone(),
                        extra,
                    }));
                }
            }
            None => {
                lies.push(Lie::Random {
                    field: f.name.clone(),
                });
                lies.push(Lie::Zeroed {
                    field: f.name.clone(),
                });
            }
        }
    }
    lies
}
