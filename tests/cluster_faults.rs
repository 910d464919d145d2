//! Faults on a real local Redis Cluster (three masters and a replica of
//! the first), each proved with a ledger: tasks are produced while
//! `streamlab worker --events json` processes drain them, a fault hits,
//! and at the end every id the server acknowledged (and every entry in the
//! stream) is processed or dead-lettered, the PEL is empty, and lost = 0.
//!
//! - a slot migration of the stream's slot by hand (SETSLOT IMPORTING and
//!   MIGRATING, MIGRATE, SETSLOT NODE on every master) under load;
//! - a manual failover (CLUSTER FAILOVER on the replica) under load;
//! - kill -9 of a worker: another one claims its entries (XAUTOCLAIM);
//! - all three in turn on a stream of 3 partitions, one per master, the
//!   ledger kept by partition.
//!
//! Of each test's two workers one reads on streamlab's RESP2 link, the
//! other on the crate's connection (`STREAMLAB_RESP=crate`, what TLS
//! uses). The faults change the cluster for every test of this binary, so
//! they run one at a time.

#[path = "common/cluster.rs"]
mod cluster;
mod common;
#[path = "common/drain.rs"]
mod drain;
#[path = "common/ledger.rs"]
mod ledger;
#[path = "common/load.rs"]
mod load;

use std::collections::HashSet;

use streamlab::redis::topology::{Master, key_slot};

use common::unique;
use ledger::assert_nothing_lost;
use load::Load;

fn cluster() -> &'static cluster::LocalCluster {
    cluster::shared(3, 1)
}

/// One fault at a time: each changes the cluster under every test here.
/// (A tokio mutex: each test has its own runtime, and the guard is held
/// across awaits.)
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// The masters as every node sees them now (earlier tests moved things).
async fn current_masters(url: &str) -> Vec<Master> {
    common::connector(url).masters().await.expect("masters")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_migrated_under_load_loses_nothing() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    let masters = current_masters(&c.url()).await;
    let (from, to) = (&masters[1], &masters[2]);
    let stream = cluster::stream_on(from, &unique("migrate"), false);
    let slot = key_slot(&stream);
    let load = Load::start(&c.url(), &stream, 2).await;
    let asking_before = command_calls(c, to.addr.port, "asking");

    c.begin_migration(slot, from.addr.port, to.addr.port);
    // Clients now meet ASK for the moved keys: let them, under load.
    let before = load.processed();
    load.wait_processed(before + 50).await;
    c.end_migration(slot, to.addr.port);
    let before = load.processed();
    load.wait_processed(before + 100).await;

    let report = load.finish().await;
    assert_nothing_lost(&report);
    assert!(
        command_calls(c, to.addr.port, "asking") > asking_before,
        "the ASK path was never taken"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_failover_under_load_loses_nothing() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    // CLUSTER SLOTS lists a replica only once its replication offset has
    // moved, so ask the replica whom it follows.
    let replica = c.replica_ports()[0];
    let primary_port = primary_of(c, replica);
    let masters = current_masters(&c.url()).await;
    let primary = masters
        .iter()
        .find(|m| m.addr.port == primary_port)
        .unwrap_or_else(|| panic!("no master {primary_port}: {masters:?}"))
        .clone();
    let stream = cluster::stream_on(&primary, &unique("failover"), false);
    // The URL names the master that is about to become a replica.
    let load = Load::start(&c.url_of(primary.addr.port), &stream, 2).await;
    let redirected_before = redirects_met(c, primary.addr.port);
    assert_eq!(c.failover(replica), primary.addr.port);
    let before = load.processed();
    load.wait_processed(before + 100).await;
    let report = load.finish().await;
    assert_nothing_lost(&report);
    // The old master sent the clients on (MOVED, UNBLOCKED): they followed.
    assert!(
        redirects_met(c, primary.addr.port) > redirected_before,
        "no client was redirected by the old master"
    );
}

/// MOVED and UNBLOCKED replies the node at `port` has given (INFO errorstats).
fn redirects_met(c: &cluster::LocalCluster, port: u16) -> u64 {
    c.error_count(port, "MOVED") + c.error_count(port, "UNBLOCKED")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_worker_s_entries_are_claimed_by_another() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    let masters = current_masters(&c.url()).await;
    let m = masters.last().expect("a master");
    let stream = cluster::stream_on(m, &unique("kill"), false);
    let mut load = Load::start(&c.url(), &stream, 2).await;
    load.kill_a_worker_holding_entries().await;
    let report = load.finish().await;
    assert_nothing_lost(&report);
}

/// Calls of `command` on the node at `port` since it started.
fn command_calls(c: &cluster::LocalCluster, port: u16, command: &str) -> u64 {
    let stats = c.cli_line(port, "INFO commandstats");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next()?.trim().parse().ok())
        .unwrap_or(0)
}

/// The same three faults on a stream of 3 partitions, one per master, with
/// the ledger kept by partition: one partition's slot migrated under load,
/// a failover of the master serving another, kill -9 of a worker holding
/// entries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_stream_loses_nothing_through_migration_failover_and_kill() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    let url = c.url();
    let mut load = Load::start_partitioned(&url, &unique("parted"), 3, 2).await;
    let replica = c.replica_ports()[0];
    let replicated = primary_of(c, replica);
    let owners: Vec<u16> = load
        .keys
        .iter()
        .map(|k| c.owner_port(replicated, key_slot(k)))
        .collect();
    assert_eq!(owners.iter().collect::<HashSet<_>>().len(), 3, "{owners:?}");

    // Migrate a partition not on the replicated master to the third master,
    // so the failover below still hits a partition.
    let i = owners
        .iter()
        .position(|o| *o != replicated)
        .expect("a partition elsewhere");
    let to = *owners
        .iter()
        .find(|o| **o != replicated && **o != owners[i])
        .expect("a third master");
    let slot = key_slot(&load.keys[i]);
    c.begin_migration(slot, owners[i], to);
    load.wait_processed(load.processed() + 50).await;
    c.end_migration(slot, to);
    load.wait_processed(load.processed() + 100).await;

    assert_eq!(c.failover(replica), replicated);
    load.wait_processed(load.processed() + 100).await;

    load.kill_a_worker_holding_entries().await;
    let report = load.finish().await;
    assert_eq!(report.partitions, 3);
    assert_nothing_lost(&report);
}

/// Without load: a command, a pipeline and a MULTI/EXEC each follow ASK
/// during a migration, a two-key MULTI waits out TRYAGAIN, then MOVED.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_request_follows_a_migration() {
    let _serial = one_at_a_time().await;
    let c = cluster();
    cluster::migration_is_followed(c, &common::connector(&c.url())).await;
}

/// The master `replica` follows.
fn primary_of(c: &cluster::LocalCluster, replica: u16) -> u16 {
    let info = c.cli_line(replica, "INFO replication");
    info.lines()
        .find_map(|l| l.trim().strip_prefix("master_port:")?.parse().ok())
        .unwrap_or_else(|| panic!("{replica} is not a replica: {info}"))
}
