//! A TLS-only Redis Cluster (client ports, bus and replication, a private
//! CA, the `lab` ACL user): streamlab given one node's `rediss://` URL and
//! REDIS_CA_CERT reaches every node the same way, on the crate's TLS
//! connection, and follows a slot migration there too (ASK for a single
//! command and a pipeline, TRYAGAIN for a MULTI/EXEC over two keys of the
//! moving slot, then MOVED).

#[path = "common/cluster.rs"]
mod cluster;
mod common;

use std::time::Duration;

use streamlab::engine::worker::Behaviour;
use streamlab::redis::config::{RedisInputs, RedisSettings};
use streamlab::redis::{Connector, xlen};

use common::{RunningWorker, pending_count, test_worker_config, unique, wait_for};

const WAIT: Duration = Duration::from_secs(30);

fn cluster() -> &'static cluster::LocalCluster {
    cluster::shared_tls(3)
}

fn tls_connector(port: u16) -> Connector {
    let c = cluster();
    let settings = RedisSettings::from_inputs(&RedisInputs {
        url: Some(c.url_of(port)),
        ca_cert: c.tls.as_ref().map(|t| t.ca.clone()),
        ..RedisInputs::default()
    })
    .expect("valid settings");
    Connector::new(settings).expect("connector")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_is_reached_over_tls_with_the_url_s_user_and_ca() {
    let c = cluster();
    let connector = tls_connector(c.nodes[1].port);
    assert!(connector.is_cluster().await.expect("detected over TLS"));
    let masters = connector.masters().await.expect("masters");
    assert_eq!(masters.len(), 3);
    let mut conn = connector.conn("tls");
    for (i, m) in masters.iter().enumerate() {
        // Plain names (dead letters in another slot: XADD, then XACK) and
        // hash-tagged ones (one MULTI/EXEC), on every master.
        let stream = cluster::stream_on(m, &unique("tls"), i % 2 == 1);
        let ids = common::add_tasks(&mut conn, &stream, 6).await;
        assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN"), 6);
        let mut config = test_worker_config(&stream, "g", "w1");
        config.max_deliveries = 1;
        let w = RunningWorker::spawn(&connector, config, Behaviour::new(0, 1.0, 0.0));
        let dead = format!("{stream}:dead");
        wait_for("every entry dead-lettered over TLS", WAIT, || {
            let mut c = connector.conn("tls-dead");
            let dead = dead.clone();
            async move { xlen(&mut c, &dead).await.unwrap_or(0) == 6 }
        })
        .await;
        w.stop().await;
        assert_eq!(pending_count(&mut conn, &stream, "g").await, 0);
        assert_eq!(ids.len(), 6);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_is_followed_on_the_tls_connection() {
    let c = cluster();
    cluster::migration_is_followed(c, &tls_connector(c.nodes[0].port)).await;
}
