//! Lies about protected-file nodes: an enclave that keeps a protected file
//! (`shield_enclave::services::pfs`) in host storage through a read and a
//! write OCALL gets back nodes that are stale, swapped, from another run,
//! or missing.
//!
//! The OCALLs are named in [`NodeCalls`]; their shape is the usual one (as
//! in `enclaves/script.edl`): a node is addressed by the by-value
//! parameters that are not buffer lengths (e.g. `file, index`, the last one
//! the node's index); the write OCALL carries the node in its `[in]`
//! buffer; the read OCALL answers with a status, the node in its `[out]`
//! buffer and its length in its `[out]` scalar.

use std::collections::BTreeMap;
use std::fmt;

use shield_edl::ir::Direction;

use crate::layout::{OcallLayout, Request, Shape};
use crate::lie::CallView;

/// The node OCALLs of an EDL and the statuses of their read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeCalls {
    /// The OCALL that reads a node.
    pub read: String,
    /// The OCALL that writes a node.
    pub write: String,
    /// What the read returns when the node exists.
    pub present: i128,
    /// What the read returns when the node does not exist.
    pub absent: i128,
}

/// A lie about a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeLie {
    /// An older version of the node, written earlier in the same run.
    Stale,
    /// The latest version of another node of the same file.
    Reordered,
    /// The same node as another run wrote it (another key, other data).
    Replayed,
    /// "No such node".
    Missing,
}

impl NodeLie {
    /// Every node lie.
    pub const ALL: [NodeLie; 4] = [
        NodeLie::Stale,
        NodeLie::Reordered,
        NodeLie::Replayed,
        NodeLie::Missing,
    ];
}

impl fmt::Display for NodeLie {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NodeLie::Stale => "answers with an older version of the node",
            NodeLie::Reordered => "answers with another node of the same file",
            NodeLie::Replayed => "answers with the node another run wrote there",
            NodeLie::Missing => "says the node does not exist",
        })
    }
}

/// A node's address: the values of its by-value, non-length parameters.
pub(crate) type NodeKey = Vec<i128>;

/// Every version of every node written in one run, oldest first.
#[derive(Debug, Clone, Default)]
pub(crate) struct Nodes {
    versions: BTreeMap<NodeKey, Vec<Vec<u8>>>,
    /// Another run's nodes (latest versions), for [`NodeLie::Replayed`].
    other: BTreeMap<NodeKey, Vec<u8>>,
}

/// The address of the node a call of `layout` is about.
pub(crate) fn key(layout: &OcallLayout, request: &Request) -> NodeKey {
    let lengths: Vec<usize> = layout
        .params
        .iter()
        .filter_map(|p| match p.shape {
            Shape::Slice {
                len: shield_edl::ir::Len::Param(i),
                ..
            } => Some(i),
            _ => None,
        })
        .collect();
    layout
        .params
        .iter()
        .enumerate()
        .filter(|(i, p)| p.dir == Direction::None && !lengths.contains(i))
        .filter_map(|(i, _)| request.values[i])
        .collect()
}

impl Nodes {
    /// Remembers what a write call stored.
    pub(crate) fn record_write(&mut self, layout: &OcallLayout, request: &Request) {
        let node = layout
            .params
            .iter()
            .zip(&request.inputs)
            .find_map(|(p, data)| data.as_ref().filter(|_| p.dir == Direction::In));
        if let Some(node) = node {
            self.versions
                .entry(key(layout, request))
                .or_default()
                .push(node.clone());
        }
    }

    /// Takes another run's nodes, for replaying.
    pub(crate) fn set_other(&mut self, other: &Nodes) {
        self.other = other
            .versions
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.last()?.clone())))
            .collect();
    }

    /// The read reply carrying `node` (or "absent" when `None`).
    fn reply(
        calls: &NodeCalls,
        call: &CallView<'_>,
        honest: &[u8],
        node: Option<&[u8]>,
    ) -> Option<Vec<u8>> {
        let mut reply = honest.to_vec();
        let status = call.fields.iter().find(|f| f.name == "return")?;
        let buffer = call.fields.iter().find(|f| f.scalar.is_none())?;
        let length = call
            .fields
            .iter()
            .find(|f| f.scalar.is_some() && f.name != "return" && f.name != "errno")?;
        let data = node.unwrap_or_default();
        let out = &mut reply[buffer.range.clone()];
        out.fill(0);
        let n = data.len().min(out.len());
        out[..n].copy_from_slice(&data[..n]);
        let code = if node.is_some() {
            calls.present
        } else {
            calls.absent
        };
        status.scalar?.write(code, &mut reply[status.range.clone()]);
        let len = i128::try_from(data.len()).ok()?;
        length.scalar?.write(len, &mut reply[length.range.clone()]);
        Some(reply)
    }

    /// The read reply for `lie`, or `None` if it cannot be told here.
    pub(crate) fn tell(
        &self,
        lie: NodeLie,
        calls: &NodeCalls,
        call: &CallView<'_>,
        honest: &[u8],
    ) -> Option<Vec<u8>> {
        if call.layout.name != calls.read {
            return None;
        }
        let key = key(call.layout, call.request);
        let node = match lie {
            NodeLie::Missing => {
                let status = call.fields.iter().find(|f| f.name == "return")?;
                let honest_status = status.scalar?.read(honest.get(status.range.clone())?);
                if honest_status != calls.present {
                    return None;
                }
                return Self::reply(calls, call, honest, None);
            }
            NodeLie::Stale => {
                let versions = self.versions.get(&key)?;
                versions.len().checked_sub(2).map(|i| &versions[i])?
            }
            NodeLie::Replayed => self.other.get(&key)?,
            NodeLie::Reordered => {
                let (_, file) = key.split_last()?;
                self.versions
                    .iter()
                    .find(|(k, _)| k.split_last().is_some_and(|(_, f)| f == file) && **k != key)
                    .and_then(|(_, v)| v.last())?
            }
        };
        Self::reply(calls, call, honest, Some(node))
    }
}
