//! Protected files: an API shaped like `std::fs::File` ([`ProtectedFile`]:
//! create/open, `Read`, `Write`, `Seek`, `flush`, `set_len`) whose bytes the
//! host stores, through a [`NodeStore`], as encrypted and authenticated
//! 4 KiB nodes of a Merkle tree.
//!
//! # Format (ours; not Intel's `sgx_tprotected_fs` format)
//!
//! Every stored node is exactly [`NODE_SIZE`] = 4096 bytes.
//!
//! - **Data nodes** hold 4096 bytes of file content; **MHT nodes** hold 128
//!   child entries. An entry is (AES-128 key, GCM tag), 32 bytes. Each time a
//!   node is written it is encrypted under a *fresh random key* with a zero
//!   IV (as Intel's protected FS does), with its node index as AAD, and its
//!   parent stores the key and tag. So a node is authenticated by its parent
//!   up to the root: a node moved to another index, a node from an older
//!   version of the file, or a flipped bit all fail their parent's tag. An
//!   all-zero entry means "all zeros, not stored" (sparse).
//! - **The tree** has fixed depth: the root (node 0) holds 64 entries for
//!   level-2 MHT nodes, each of which holds 128 level-1 MHT nodes, each of
//!   which holds 128 data nodes: at most 64·128·128·4 KiB = 4 GiB. Nodes are
//!   laid out depth-first, each MHT node before its children (node 1 is the
//!   first level-2 node, node 2 the first level-1 node, 3… its data nodes),
//!   so a file of `n` data nodes occupies exactly the first
//!   `node_count(n)` indices.
//! - **The root** (node 0): a clear header (magic `SHIELDPF`, format 1, key
//!   mode, a random 96-bit GCM nonce, and for sealed keys the
//!   `sgx_sealed_data_t` blob of the file key with the file's name as its
//!   additional MAC text), then, encrypted under the file key with the header
//!   and the file's logical name as AAD: the root version (incremented on
//!   every flush), the file size, and the 64 top entries; then the tag. The
//!   name in the AAD is what stops the host from swapping two files.
//!
//! # What is detected, and what is not
//!
//! A flipped byte anywhere, a node replayed from an older version, two nodes
//! swapped, a file truncated or extended, a root from another file, and a
//! corrupted root are all errors ([`Error::Authentication`],
//! [`Error::Truncated`], [`Error::Malformed`]). **A whole file rolled back
//! to an older, consistent version is not**: every byte of it was once
//! genuine. Detecting that needs state the host cannot roll back, and SGX
//! no longer offers monotonic counters; [`VersionHook`] gives the root
//! version to the application at open and after every flush so it can keep
//! it somewhere trustworthy (another enclave, a remote service, a TPM).
//!
//! Flushing writes data nodes, then MHT nodes, then the root; a crash in
//! the middle leaves a file that fails authentication (detected, not
//! silently wrong), and there is no recovery journal.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Seek, SeekFrom, Write};

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, KeyInit, Nonce, Tag};
use zeroize::{Zeroize, Zeroizing};

use crate::seal::{SealPolicy, seal, unseal};
use crate::{Error, KeySource, Result, random};

/// Size of every stored node, and of the content of a data node.
pub const NODE_SIZE: usize = 4096;
/// Entries per MHT node.
const FANOUT: u64 = 128;
/// Entries in the root.
const TOP: u64 = 64;
/// Largest file size.
pub const MAX_FILE_SIZE: u64 = TOP * FANOUT * FANOUT * NODE_SIZE as u64;
/// Longest logical name, in bytes.
pub const MAX_NAME_LEN: usize = 255;
/// Data nodes kept decrypted in memory.
const DATA_CACHE: usize = 48;

/// Nodes under one level-1 MHT node, itself included.
const GROUP1: u64 = 1 + FANOUT;
/// Nodes under one level-2 MHT node, itself included.
const GROUP2: u64 = 1 + FANOUT * GROUP1;

fn l2_index(i: u64) -> u64 {
    1 + i * GROUP2
}
fn l1_index(j: u64) -> u64 {
    l2_index(j / FANOUT) + 1 + (j % FANOUT) * GROUP1
}
fn data_index(d: u64) -> u64 {
    l1_index(d / FANOUT) + 1 + d % FANOUT
}
/// How many nodes a file of `data_nodes` data nodes occupies.
fn node_count(data_nodes: u64) -> u64 {
    if data_nodes == 0 {
        1
    } else {
        data_index(data_nodes - 1) + 1
    }
}

/// Where the host keeps a protected file's nodes. Implemented in the enclave
/// with OCALLs; every answer is untrusted and checked by the caller.
pub trait NodeStore {
    /// The node at `index`, or `None` if there is none.
    fn read_node(&mut self, index: u64) -> Result<Option<Vec<u8>>>;
    /// Stores `node` (always [`NODE_SIZE`] bytes) at `index`, extending the
    /// store if needed.
    fn write_node(&mut self, index: u64, node: &[u8]) -> Result<()>;
    /// Drops every node at or after `count`.
    fn truncate(&mut self, count: u64) -> Result<()>;
    /// How many nodes are stored.
    fn node_count(&mut self) -> Result<u64>;
}

impl<T: NodeStore + ?Sized> NodeStore for &mut T {
    fn read_node(&mut self, index: u64) -> Result<Option<Vec<u8>>> {
        (**self).read_node(index)
    }
    fn write_node(&mut self, index: u64, node: &[u8]) -> Result<()> {
        (**self).write_node(index, node)
    }
    fn truncate(&mut self, count: u64) -> Result<()> {
        (**self).truncate(count)
    }
    fn node_count(&mut self) -> Result<u64> {
        (**self).node_count()
    }
}

/// A store in memory (tests, benchmarks, and enclave-internal temporary files).
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    /// The nodes, as the host would keep them.
    pub nodes: Vec<Vec<u8>>,
}

impl NodeStore for MemoryStore {
    fn read_node(&mut self, index: u64) -> Result<Option<Vec<u8>>> {
        Ok(usize::try_from(index)
            .ok()
            .and_then(|i| self.nodes.get(i))
            .filter(|n| !n.is_empty())
            .cloned())
    }
    fn write_node(&mut self, index: u64, node: &[u8]) -> Result<()> {
        let i = usize::try_from(index).map_err(|_| Error::Store("index too large".into()))?;
        if self.nodes.len() <= i {
            self.nodes.resize(i + 1, Vec::new());
        }
        self.nodes[i] = node.to_vec();
        Ok(())
    }
    fn truncate(&mut self, count: u64) -> Result<()> {
        self.nodes
            .truncate(usize::try_from(count).unwrap_or(usize::MAX));
        Ok(())
    }
    fn node_count(&mut self) -> Result<u64> {
        Ok(self.nodes.len() as u64)
    }
}

/// The application's hook for whole-file rollback: see the module docs.
pub trait VersionHook: Send {
    /// Called at open with the root version found; refuse it to refuse the
    /// open.
    fn check(&self, root_version: u64) -> Result<()>;
    /// Called after every flush that wrote a new root version.
    fn committed(&self, _root_version: u64) {}
}

impl<F: Fn(u64) -> Result<()> + Send> VersionHook for F {
    fn check(&self, root_version: u64) -> Result<()> {
        self(root_version)
    }
}

/// Where a protected file's key comes from.
pub enum FileKey<'a> {
    /// The caller's key (for example from a key server).
    Supplied(Zeroizing<[u8; 16]>),
    /// A random key, sealed into the root under the policy for this enclave
    /// (the policy is used at create; at open the blob's own is used).
    Sealed(&'a dyn KeySource, SealPolicy),
}

impl std::fmt::Debug for FileKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileKey::Supplied(_) => f.write_str("FileKey::Supplied(..)"),
            FileKey::Sealed(_, policy) => write!(f, "FileKey::Sealed({policy:?})"),
        }
    }
}

/// One child's (key, tag); all zeros for "not stored, all zeros".
#[derive(Clone, Copy, Default, PartialEq, Eq, Zeroize)]
struct Entry {
    key: [u8; 16],
    tag: [u8; 16],
}

impl Entry {
    fn is_absent(&self) -> bool {
        *self == Entry::default()
    }
    fn read(bytes: &[u8]) -> Entry {
        let mut entry = Entry::default();
        entry.key.copy_from_slice(&bytes[..16]);
        entry.tag.copy_from_slice(&bytes[16..32]);
        entry
    }
}

/// A decrypted MHT node.
struct Mht {
    entries: Vec<Entry>,
    dirty: bool,
}

impl Drop for Mht {
    fn drop(&mut self) {
        self.entries.zeroize();
    }
}

struct DataNode {
    bytes: Zeroizing<Vec<u8>>,
    dirty: bool,
    last_use: u64,
}

/// Encrypts `plain` as node `index` under a fresh key.
fn seal_node(index: u64, plain: &mut [u8]) -> Entry {
    let mut entry = Entry::default();
    random(&mut entry.key);
    let cipher = Aes128Gcm::new((&entry.key).into());
    let tag = cipher
        .encrypt_in_place_detached(&Nonce::default(), &index.to_le_bytes(), plain)
        .unwrap_or_default(); // a 4 KiB buffer is always within GCM's limit
    entry.tag.copy_from_slice(&tag);
    entry
}

/// Reads, checks and decrypts node `index` that `entry` describes.
fn open_node(store: &mut dyn NodeStore, index: u64, entry: &Entry) -> Result<Zeroizing<Vec<u8>>> {
    if entry.is_absent() {
        return Ok(Zeroizing::new(vec![0u8; NODE_SIZE]));
    }
    let node = store
        .read_node(index)?
        .ok_or_else(|| Error::Truncated(format!("node {index} is missing")))?;
    if node.len() != NODE_SIZE {
        return Err(Error::Malformed("a node read back has the wrong size"));
    }
    let mut node = Zeroizing::new(node);
    let cipher = Aes128Gcm::new((&entry.key).into());
    cipher
        .decrypt_in_place_detached(
            &Nonce::default(),
            &index.to_le_bytes(),
            &mut node,
            Tag::from_slice(&entry.tag),
        )
        .map_err(|_| Error::Authentication("a node's tag does not verify"))?;
    Ok(node)
}

const MAGIC: &[u8; 8] = b"SHIELDPF";
const FORMAT: u32 = 1;
/// Clear header of the root: magic, format, mode, reserved, nonce, blob
/// length, blob.
const HEADER_LEN: usize = 1024;
const OFF_NONCE: usize = 16;
const OFF_BLOB_LEN: usize = 28;
const OFF_BLOB: usize = 32;
/// Encrypted part: version, size, top entries; then the tag.
const SECRET_LEN: usize = 16 + TOP as usize * 32;
const MODE_SUPPLIED: u8 = 0;
const MODE_SEALED: u8 = 1;

/// A protected file. Changes reach the store on [`ProtectedFile::flush`]
/// (or `Write::flush`, or [`ProtectedFile::close`]) and when the cache of
/// decrypted nodes evicts them; dropping a file without flushing discards
/// its unflushed changes and may leave it failing authentication, exactly
/// as a crash would.
pub struct ProtectedFile<S: NodeStore> {
    store: S,
    name: Vec<u8>,
    key: Zeroizing<[u8; 16]>,
    header: Vec<u8>,
    version: u64,
    size: u64,
    top: Zeroizing<Vec<Entry>>,
    top_dirty: bool,
    l2: HashMap<u64, Mht>,
    l1: HashMap<u64, Mht>,
    data: BTreeMap<u64, DataNode>,
    clock: u64,
    pos: u64,
    hook: Option<Box<dyn VersionHook>>,
}

impl<S: NodeStore> std::fmt::Debug for ProtectedFile<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtectedFile")
            .field("name", &String::from_utf8_lossy(&self.name))
            .field("version", &self.version)
            .field("size", &self.size)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(Error::InvalidInput("a file name is 1 to 255 bytes"));
    }
    Ok(())
}

impl<S: NodeStore> ProtectedFile<S> {
    /// Creates an empty file called `name` in `store`, replacing whatever
    /// the store held.
    pub fn create(mut store: S, name: &str, key: FileKey<'_>) -> Result<Self> {
        check_name(name)?;
        let mut header = vec![0u8; HEADER_LEN];
        header[..8].copy_from_slice(MAGIC);
        header[8..12].copy_from_slice(&FORMAT.to_le_bytes());
        let key = match key {
            FileKey::Supplied(key) => {
                header[12] = MODE_SUPPLIED;
                key
            }
            FileKey::Sealed(keys, policy) => {
                header[12] = MODE_SEALED;
                let mut file_key = Zeroizing::new([0u8; 16]);
                random(&mut file_key[..]);
                let blob = seal(keys, policy, &file_key[..], name.as_bytes())?;
                // At most 560 + 16 + 255 bytes: within the header.
                header[OFF_BLOB_LEN..OFF_BLOB_LEN + 4]
                    .copy_from_slice(&(blob.len() as u32).to_le_bytes());
                header[OFF_BLOB..OFF_BLOB + blob.len()].copy_from_slice(&blob);
                file_key
            }
        };
        store.truncate(0)?;
        let mut file = ProtectedFile {
            store,
            name: name.as_bytes().to_vec(),
            key,
            header,
            version: 0,
            size: 0,
            top: Zeroizing::new(vec![Entry::default(); TOP as usize]),
            top_dirty: true,
            l2: HashMap::new(),
            l1: HashMap::new(),
            data: BTreeMap::new(),
            clock: 0,
            pos: 0,
            hook: None,
        };
        file.flush_all()?;
        Ok(file)
    }

    /// Opens the file called `name` in `store`: authenticates its root
    /// (which binds the name) and checks the store holds exactly the nodes
    /// the root describes.
    pub fn open(store: S, name: &str, key: FileKey<'_>) -> Result<Self> {
        Self::open_with_hook(store, name, key, None)
    }

    /// [`ProtectedFile::open`], asking `hook` whether the root version is
    /// acceptable (rollback detection), and telling it every new version.
    pub fn open_with_hook(
        mut store: S,
        name: &str,
        key: FileKey<'_>,
        hook: Option<Box<dyn VersionHook>>,
    ) -> Result<Self> {
        check_name(name)?;
        let root = store
            .read_node(0)?
            .ok_or_else(|| Error::Truncated("the root node is missing".into()))?;
        if root.len() != NODE_SIZE {
            return Err(Error::Malformed("the root node has the wrong size"));
        }
        let header = root[..HEADER_LEN].to_vec();
        if &header[..8] != MAGIC || header[8..12] != FORMAT.to_le_bytes() {
            return Err(Error::Malformed("not a protected file (magic or format)"));
        }
        let blob_len = u32::from_le_bytes([
            header[OFF_BLOB_LEN],
            header[OFF_BLOB_LEN + 1],
            header[OFF_BLOB_LEN + 2],
            header[OFF_BLOB_LEN + 3],
        ]) as usize;
        let key = match (header[12], key) {
            (MODE_SUPPLIED, FileKey::Supplied(key)) if blob_len == 0 => key,
            (MODE_SEALED, FileKey::Sealed(keys, _)) => {
                if blob_len > HEADER_LEN - OFF_BLOB {
                    return Err(Error::Malformed("sealed key length is out of range"));
                }
                let unsealed = unseal(keys, &header[OFF_BLOB..OFF_BLOB + blob_len])?;
                if unsealed.aad != name.as_bytes() {
                    return Err(Error::Authentication(
                        "the file's key was sealed for another name",
                    ));
                }
                let file_key: [u8; 16] = unsealed.data[..]
                    .try_into()
                    .map_err(|_| Error::Malformed("the sealed file key is not 16 bytes"))?;
                Zeroizing::new(file_key)
            }
            _ => return Err(Error::Malformed("key mode does not match the key given")),
        };
        let mut secret = Zeroizing::new(root[HEADER_LEN..HEADER_LEN + SECRET_LEN].to_vec());
        let tag =
            Tag::clone_from_slice(&root[HEADER_LEN + SECRET_LEN..HEADER_LEN + SECRET_LEN + 16]);
        if root[HEADER_LEN + SECRET_LEN + 16..].iter().any(|&b| b != 0) {
            return Err(Error::Malformed("the root's padding is not zero"));
        }
        let mut aad = header.clone();
        aad.extend_from_slice(name.as_bytes());
        Aes128Gcm::new((&*key).into())
            .decrypt_in_place_detached(
                Nonce::from_slice(&header[OFF_NONCE..OFF_NONCE + 12]),
                &aad,
                &mut secret,
                &tag,
            )
            .map_err(|_| {
                Error::Authentication(
                    "the root's tag does not verify (corrupted, or another file's)",
                )
            })?;
        let version = u64::from_le_bytes(secret[..8].try_into().unwrap_or_default());
        let size = u64::from_le_bytes(secret[8..16].try_into().unwrap_or_default());
        if size > MAX_FILE_SIZE {
            return Err(Error::Malformed("file size is out of range"));
        }
        let top = Zeroizing::new(secret[16..].chunks_exact(32).map(Entry::read).collect());
        let expected = node_count(size.div_ceil(NODE_SIZE as u64));
        let stored = store.node_count()?;
        if stored != expected {
            return Err(Error::Truncated(format!(
                "the root describes {expected} nodes, the store holds {stored}"
            )));
        }
        if let Some(hook) = &hook {
            hook.check(version)?;
        }
        Ok(ProtectedFile {
            store,
            name: name.as_bytes().to_vec(),
            key,
            header,
            version,
            size,
            top,
            top_dirty: false,
            l2: HashMap::new(),
            l1: HashMap::new(),
            data: BTreeMap::new(),
            clock: 0,
            pos: 0,
            hook,
        })
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// The root version last read or written (see [`VersionHook`]).
    pub fn root_version(&self) -> u64 {
        self.version
    }

    /// The store (for tests that tamper with it between calls).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Flushes and gives the store back.
    pub fn close(mut self) -> Result<S> {
        self.flush_all()?;
        Ok(self.store)
    }

    fn load_l2(&mut self, i: u64) -> Result<&mut Mht> {
        if !self.l2.contains_key(&i) {
            let entry = self.top[i as usize];
            let bytes = open_node(&mut self.store, l2_index(i), &entry)?;
            let entries = bytes.chunks_exact(32).map(Entry::read).collect();
            self.l2.insert(
                i,
                Mht {
                    entries,
                    dirty: false,
                },
            );
        }
        self.l2.get_mut(&i).ok_or(Error::Store("cache".into()))
    }

    fn load_l1(&mut self, j: u64) -> Result<&mut Mht> {
        if !self.l1.contains_key(&j) {
            let entry = self.load_l2(j / FANOUT)?.entries[(j % FANOUT) as usize];
            let bytes = open_node(&mut self.store, l1_index(j), &entry)?;
            let entries = bytes.chunks_exact(32).map(Entry::read).collect();
            self.l1.insert(
                j,
                Mht {
                    entries,
                    dirty: false,
                },
            );
        }
        self.l1.get_mut(&j).ok_or(Error::Store("cache".into()))
    }

    fn load_data(&mut self, d: u64) -> Result<&mut DataNode> {
        self.clock += 1;
        let now = self.clock;
        if !self.data.contains_key(&d) {
            if self.data.len() >= DATA_CACHE {
                self.evict()?;
            }
            let entry = self.load_l1(d / FANOUT)?.entries[(d % FANOUT) as usize];
            let bytes = open_node(&mut self.store, data_index(d), &entry)?;
            self.data.insert(
                d,
                DataNode {
                    bytes,
                    dirty: false,
                    last_use: now,
                },
            );
        }
        let node = self.data.get_mut(&d).ok_or(Error::Store("cache".into()))?;
        node.last_use = now;
        Ok(node)
    }

    fn evict(&mut self) -> Result<()> {
        let Some((&d, _)) = self.data.iter().min_by_key(|(_, n)| n.last_use) else {
            return Ok(());
        };
        self.write_data(d)?;
        self.data.remove(&d);
        Ok(())
    }

    /// Writes data node `d` if dirty and records its entry in its parent.
    fn write_data(&mut self, d: u64) -> Result<()> {
        let Some(node) = self.data.get_mut(&d) else {
            return Ok(());
        };
        if !node.dirty {
            return Ok(());
        }
        let mut buf = Zeroizing::new(node.bytes.to_vec());
        let entry = seal_node(data_index(d), &mut buf);
        self.store.write_node(data_index(d), &buf)?;
        if let Some(node) = self.data.get_mut(&d) {
            node.dirty = false;
        }
        let parent = self.load_l1(d / FANOUT)?;
        parent.entries[(d % FANOUT) as usize] = entry;
        parent.dirty = true;
        Ok(())
    }

    fn flush_all(&mut self) -> Result<()> {
        let data_nodes = self.size.div_ceil(NODE_SIZE as u64);
        // The last node is always stored, so the node count is exact.
        if data_nodes > 0 {
            let last = data_nodes - 1;
            let absent = self.load_l1(last / FANOUT)?.entries[(last % FANOUT) as usize].is_absent();
            if absent {
                self.load_data(last)?.dirty = true;
            }
        }
        let dirty: Vec<u64> = self
            .data
            .iter()
            .filter(|(_, n)| n.dirty)
            .map(|(&d, _)| d)
            .collect();
        if dirty.is_empty() && !self.top_dirty && !self.l1.values().any(|m| m.dirty) {
            return Ok(());
        }
        for d in dirty {
            self.write_data(d)?;
        }
        let mut l1s: Vec<u64> = self
            .l1
            .iter()
            .filter(|(_, m)| m.dirty)
            .map(|(&j, _)| j)
            .collect();
        l1s.sort_unstable();
        for j in l1s {
            let entry = self.write_mht(l1_index(j), true, j)?;
            let parent = self.load_l2(j / FANOUT)?;
            parent.entries[(j % FANOUT) as usize] = entry;
            parent.dirty = true;
        }
        let mut l2s: Vec<u64> = self
            .l2
            .iter()
            .filter(|(_, m)| m.dirty)
            .map(|(&i, _)| i)
            .collect();
        l2s.sort_unstable();
        for i in l2s {
            let entry = self.write_mht(l2_index(i), false, i)?;
            self.top[i as usize] = entry;
        }
        self.version += 1;
        self.write_root()?;
        let count = node_count(data_nodes);
        if self.store.node_count()? > count {
            self.store.truncate(count)?;
        }
        self.top_dirty = false;
        if let Some(hook) = &self.hook {
            hook.committed(self.version);
        }
        Ok(())
    }

    fn write_mht(&mut self, index: u64, level1: bool, key: u64) -> Result<Entry> {
        let cache = if level1 { &mut self.l1 } else { &mut self.l2 };
        let Some(mht) = cache.get_mut(&key) else {
            return Err(Error::Store("cache".into()));
        };
        mht.dirty = false;
        if mht.entries.iter().all(Entry::is_absent) {
            return Ok(Entry::default());
        }
        let mut buf = Zeroizing::new(Vec::with_capacity(NODE_SIZE));
        for entry in &mht.entries {
            buf.extend_from_slice(&entry.key);
            buf.extend_from_slice(&entry.tag);
        }
        let entry = seal_node(index, &mut buf);
        self.store.write_node(index, &buf)?;
        Ok(entry)
    }

    fn write_root(&mut self) -> Result<()> {
        random(&mut self.header[OFF_NONCE..OFF_NONCE + 12]);
        let mut secret = Zeroizing::new(Vec::with_capacity(SECRET_LEN));
        secret.extend_from_slice(&self.version.to_le_bytes());
        secret.extend_from_slice(&self.size.to_le_bytes());
        for entry in self.top.iter() {
            secret.extend_from_slice(&entry.key);
            secret.extend_from_slice(&entry.tag);
        }
        let mut aad = self.header.clone();
        aad.extend_from_slice(&self.name);
        let nonce = *Nonce::from_slice(&self.header[OFF_NONCE..OFF_NONCE + 12]);
        let tag = Aes128Gcm::new((&*self.key).into())
            .encrypt_in_place_detached(&nonce, &aad, &mut secret)
            .map_err(|_| Error::InvalidInput("root too long"))?;
        let mut root = vec![0u8; NODE_SIZE];
        root[..HEADER_LEN].copy_from_slice(&self.header);
        root[HEADER_LEN..HEADER_LEN + SECRET_LEN].copy_from_slice(&secret);
        root[HEADER_LEN + SECRET_LEN..HEADER_LEN + SECRET_LEN + 16].copy_from_slice(&tag);
        self.store.write_node(0, &root)
    }

    /// Truncates or extends (with zeros) the file to `new_len` bytes, as
    /// `std::fs::File::set_len`. The position is unchanged.
    pub fn set_len(&mut self, new_len: u64) -> Result<()> {
        if new_len > MAX_FILE_SIZE {
            return Err(Error::InvalidInput("protected files are at most 4 GiB"));
        }
        if new_len < self.size {
            self.clear_from(new_len)?;
        }
        self.size = new_len;
        self.top_dirty = true;
        Ok(())
    }

    /// Forgets every byte at or after `len`, keeping the invariant that
    /// entries beyond the end are absent and the last node's tail is zero.
    fn clear_from(&mut self, len: u64) -> Result<()> {
        let keep = len.div_ceil(NODE_SIZE as u64); // data nodes kept
        let tail = (len % NODE_SIZE as u64) as usize;
        if tail != 0 {
            let node = self.load_data(keep - 1)?;
            node.bytes[tail..].fill(0);
            node.dirty = true;
        }
        let per_l2 = FANOUT * FANOUT;
        self.data.retain(|&d, _| d < keep);
        self.l1.retain(|&j, _| j * FANOUT < keep);
        self.l2.retain(|&i, _| i * per_l2 < keep);
        for i in 0..TOP {
            let start = i * per_l2;
            if start >= keep {
                self.top[i as usize] = Entry::default();
                self.l2.remove(&i);
                continue;
            }
            if start + per_l2 <= keep {
                continue;
            }
            for k in 0..FANOUT {
                let j = i * FANOUT + k;
                let start = j * FANOUT;
                if start >= keep {
                    let l2 = self.load_l2(i)?;
                    if !l2.entries[k as usize].is_absent() {
                        l2.entries[k as usize] = Entry::default();
                        l2.dirty = true;
                    }
                    self.l1.remove(&j);
                } else if start + FANOUT > keep {
                    let l1 = self.load_l1(j)?;
                    for dd in (keep - start) as usize..FANOUT as usize {
                        if !l1.entries[dd].is_absent() {
                            l1.entries[dd] = Entry::default();
                            l1.dirty = true;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Flushes every change to the store and writes a new root version.
    pub fn flush(&mut self) -> Result<()> {
        self.flush_all()
    }

    fn read_at(&mut self, buf: &mut [u8]) -> Result<usize> {
        let mut done = 0;
        while done < buf.len() && self.pos < self.size {
            let d = self.pos / NODE_SIZE as u64;
            let off = (self.pos % NODE_SIZE as u64) as usize;
            let n = (NODE_SIZE - off)
                .min(buf.len() - done)
                .min(usize::try_from(self.size - self.pos).unwrap_or(usize::MAX));
            let node = self.load_data(d)?;
            buf[done..done + n].copy_from_slice(&node.bytes[off..off + n]);
            done += n;
            self.pos += n as u64;
        }
        Ok(done)
    }

    fn write_at(&mut self, buf: &[u8]) -> Result<usize> {
        let end = self
            .pos
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= MAX_FILE_SIZE)
            .ok_or(Error::InvalidInput("protected files are at most 4 GiB"))?;
        let mut done = 0;
        while done < buf.len() {
            let d = self.pos / NODE_SIZE as u64;
            let off = (self.pos % NODE_SIZE as u64) as usize;
            let n = (NODE_SIZE - off).min(buf.len() - done);
            let node = self.load_data(d)?;
            node.bytes[off..off + n].copy_from_slice(&buf[done..done + n]);
            node.dirty = true;
            done += n;
            self.pos += n as u64;
        }
        if end > self.size {
            self.size = end;
        }
        self.top_dirty = true;
        Ok(done)
    }
}

impl<S: NodeStore> Read for ProtectedFile<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(self.read_at(buf)?)
    }
}

impl<S: NodeStore> Write for ProtectedFile<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(self.write_at(buf)?)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(self.flush_all()?)
    }
}

impl<S: NodeStore> Seek for ProtectedFile<S> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests;
