//! What one [`Connector`]'s connections share about the server: whether it
//! is a cluster, the nodes seen so far, and the slot map. Connections read
//! the map through an epoch (one atomic load per request) and replace it
//! after CLUSTER SLOTS or a MOVED.
//!
//! [`Connector`]: super::Connector

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::slot_map::{NodeId, SlotMap, SlotRange};
use crate::redis::topology::{Master, NodeAddr};

/// Whether the server is a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Not asked yet.
    Unknown,
    Standalone,
    Cluster,
}

/// The seed (the URL's node) is always node 0.
pub(crate) const SEED: NodeId = 0;

/// Several connections notice a change at once: one CLUSTER SLOTS per
/// this interval is enough.
const REFRESH_GAP: Duration = Duration::from_millis(100);

pub(crate) struct ClusterMap {
    mode: AtomicU8,
    /// REDIS_CLUSTER: Some(false) never asks, Some(true) never doubts.
    forced: Option<bool>,
    nodes: RwLock<Vec<NodeAddr>>,
    map: RwLock<Arc<SlotMap>>,
    epoch: AtomicU64,
    stale: AtomicBool,
    refreshed_at: Mutex<Option<Instant>>,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl ClusterMap {
    pub(crate) fn new(seed: NodeAddr, forced: Option<bool>) -> Self {
        let mode = match forced {
            Some(false) => Mode::Standalone,
            _ => Mode::Unknown,
        };
        Self {
            mode: AtomicU8::new(mode as u8),
            forced,
            nodes: RwLock::new(vec![seed]),
            map: RwLock::new(Arc::new(SlotMap::single(SEED))),
            epoch: AtomicU64::new(0),
            stale: AtomicBool::new(false),
            refreshed_at: Mutex::new(None),
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        match self.mode.load(Ordering::Acquire) {
            1 => Mode::Standalone,
            2 => Mode::Cluster,
            _ => Mode::Unknown,
        }
    }

    pub(crate) fn forced(&self) -> Option<bool> {
        self.forced
    }

    /// Record what detection found (a forced mode is never overridden).
    pub(crate) fn set_mode(&self, mode: Mode) {
        if self.forced == Some(false) && mode == Mode::Cluster {
            return;
        }
        if mode == Mode::Cluster && self.mode() != Mode::Cluster {
            // Nothing is known of the slots until CLUSTER SLOTS or MOVED.
            self.replace(SlotMap::default());
        }
        self.mode.store(mode as u8, Ordering::Release);
    }

    /// The number of `addr`, registering it the first time.
    pub(crate) fn intern(&self, addr: &NodeAddr) -> NodeId {
        if let Some(i) = read(&self.nodes).iter().position(|n| n == addr) {
            return NodeId::try_from(i).unwrap_or(SEED);
        }
        let mut nodes = write(&self.nodes);
        if let Some(i) = nodes.iter().position(|n| n == addr) {
            return NodeId::try_from(i).unwrap_or(SEED);
        }
        nodes.push(addr.clone());
        NodeId::try_from(nodes.len() - 1).unwrap_or(SEED)
    }

    /// The master the sentinels name now is the seed: connections dial it
    /// as node 0, as they dial the URL's node otherwise.
    pub(crate) fn set_seed(&self, addr: &NodeAddr) {
        let mut nodes = write(&self.nodes);
        if nodes[usize::from(SEED)] != *addr {
            nodes[usize::from(SEED)] = addr.clone();
        }
    }

    pub(crate) fn addr(&self, node: NodeId) -> NodeAddr {
        let nodes = read(&self.nodes);
        nodes
            .get(usize::from(node))
            .unwrap_or(&nodes[usize::from(SEED)])
            .clone()
    }

    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub(crate) fn map(&self) -> Arc<SlotMap> {
        read(&self.map).clone()
    }

    fn replace(&self, map: SlotMap) {
        *write(&self.map) = Arc::new(map);
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Install a full map read with CLUSTER SLOTS.
    pub(crate) fn install(&self, ranges: &[SlotRange]) {
        let map = SlotMap::from_ranges(ranges, |a| self.intern(a));
        self.replace(map);
        self.stale.store(false, Ordering::Release);
    }

    /// A MOVED said `addr` owns `slot`: correct that slot now, and ask for
    /// a full re-read (a migration or failover changes more than one).
    pub(crate) fn learn(&self, slot: u16, addr: &NodeAddr) {
        let node = self.intern(addr);
        let map = self.map().with_owner(slot, node);
        self.replace(map);
        self.mark_stale();
    }

    /// After a dead node or an UNBLOCKED read: re-read the map soon.
    pub(crate) fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
    }

    /// Whether this connection should re-read the map now. Claims the
    /// attempt, so connections noticing the same change do not all re-read
    /// it, and a map that cannot be read (an ACL without CLUSTER) is not
    /// asked for on every request.
    pub(crate) fn claim_refresh(&self) -> bool {
        if !self.stale.load(Ordering::Acquire) {
            return false;
        }
        let mut at = self
            .refreshed_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if at.is_some_and(|t| t.elapsed() < REFRESH_GAP) {
            return false;
        }
        *at = Some(Instant::now());
        true
    }

    /// Every master with its slots; on a single server, the seed with all.
    pub(crate) fn masters(&self) -> Vec<Master> {
        let map = self.map();
        map.masters()
            .into_iter()
            .map(|(node, info, slots)| Master {
                addr: self.addr(node),
                id: info.id.clone(),
                slots,
                replicas: info.replicas.iter().map(|r| self.addr(*r)).collect(),
            })
            .collect()
    }

    /// The node that owns `slot`, if known.
    pub(crate) fn owner_addr(&self, slot: u16) -> Option<NodeAddr> {
        self.map().owner(slot).map(|n| self.addr(n))
    }
}
