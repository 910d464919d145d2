//! What tests do to a running [`LocalCluster`]: migrate a slot by hand,
//! fail a master over, and check that streamlab follows a migration.

use std::time::{Duration, Instant};

use super::{LocalCluster, PASSWORD};

impl LocalCluster {
    /// First half of a slot migration by hand, as `redis-cli --cluster
    /// reshard` does it: SETSLOT IMPORTING on the target, MIGRATING on
    /// the source, then MIGRATE every key of the slot. Clients meet ASK
    /// for the moved keys until [`end_migration`](Self::end_migration).
    pub fn begin_migration(&self, slot: u16, from: u16, to: u16) {
        self.mark_migrating(slot, from, to);
        self.migrate_rest(slot, from, to);
    }

    /// A migration caught half-way: the slot marked as in
    /// [`begin_migration`](Self::begin_migration), then only `keys`
    /// MIGRATEd; the slot's other keys stay on `from`, which answers ASK
    /// for the moved ones and runs commands on the others.
    pub fn begin_partial_migration(&self, slot: u16, from: u16, to: u16, keys: &[&str]) {
        self.mark_migrating(slot, from, to);
        self.migrate(from, to, keys.iter().map(|k| (*k).to_owned()));
    }

    /// MIGRATE every key `from` still holds in `slot`.
    pub fn migrate_rest(&self, slot: u16, from: u16, to: u16) {
        loop {
            let listed = self.cli_line(from, &format!("CLUSTER GETKEYSINSLOT {slot} 100"));
            let keys: Vec<String> = listed
                .lines()
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
            if keys.is_empty() {
                return;
            }
            self.migrate(from, to, keys);
        }
    }

    /// SETSLOT IMPORTING on the target, then MIGRATING on the source.
    fn mark_migrating(&self, slot: u16, from: u16, to: u16) {
        let (from_id, to_id) = (self.node_id(from), self.node_id(to));
        self.setslot(to, slot, "IMPORTING", &from_id);
        self.setslot(from, slot, "MIGRATING", &to_id);
    }

    fn migrate(&self, from: u16, to: u16, keys: impl IntoIterator<Item = String>) {
        let mut migrate: Vec<String> = [
            "MIGRATE",
            "127.0.0.1",
            &to.to_string(),
            "",
            "0",
            "5000",
            "AUTH",
            PASSWORD,
            "KEYS",
        ]
        .iter()
        .map(|a| (*a).to_owned())
        .collect();
        migrate.extend(keys);
        let out = self.cli(from, &migrate);
        assert!(out.contains("OK"), "MIGRATE: {out}");
    }

    /// Second half: SETSLOT NODE on every master, then wait until every
    /// node says `to` owns the slot.
    pub fn end_migration(&self, slot: u16, to: u16) {
        let to_id = self.node_id(to);
        for port in self.master_ports() {
            self.setslot(port, slot, "NODE", &to_id);
        }
        self.wait_owner(slot, to, Duration::from_secs(30));
    }

    fn setslot(&self, port: u16, slot: u16, how: &str, id: &str) {
        let out = self.cli_line(port, &format!("CLUSTER SETSLOT {slot} {how} {id}"));
        assert!(out.contains("OK"), "SETSLOT {slot} {how} on {port}: {out}");
    }

    /// How many times the node at `port` has answered with error `code`
    /// (INFO errorstats), since it started.
    pub fn error_count(&self, port: u16, code: &str) -> u64 {
        self.cli_line(port, "INFO errorstats")
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("errorstat_{code}:count=")))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Ports of the nodes that are masters now.
    pub fn master_ports(&self) -> Vec<u16> {
        self.ports()
            .into_iter()
            .filter(|p| self.cli_line(*p, "ROLE").starts_with("master"))
            .collect()
    }

    /// Ports of the nodes that are replicas now.
    pub fn replica_ports(&self) -> Vec<u16> {
        self.ports()
            .into_iter()
            .filter(|p| self.cli_line(*p, "ROLE").starts_with("slave"))
            .collect()
    }

    /// Until every node says `owner` serves `slot`.
    pub fn wait_owner(&self, slot: u16, owner: u16, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            // A node that sees no owner yet is still catching up: wait.
            let owners: Vec<Option<u16>> = self
                .ports()
                .into_iter()
                .map(|p| self.owner_seen_by(p, slot))
                .collect();
            if owners.iter().all(|o| *o == Some(owner)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "slot {slot}: owners {owners:?}, not {owner}, after {within:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// CLUSTER FAILOVER on `replica`, until it is master of its old
    /// master's slots on every node. Returns the old master's port.
    pub fn failover(&self, replica: u16) -> u16 {
        let info = self.cli_line(replica, "INFO replication");
        let primary: u16 = info
            .lines()
            .find_map(|l| l.trim().strip_prefix("master_port:")?.parse().ok())
            .unwrap_or_else(|| panic!("{replica} is not a replica: {info}"));
        let slot = self
            .master_view(primary)
            .lines()
            .find(|l| l.ends_with(&format!(":{primary}")))
            .and_then(|l| l.split(['-', ' ']).next()?.parse::<u16>().ok())
            .expect("the master serves a slot");
        let out = self.cli_line(replica, "CLUSTER FAILOVER");
        assert!(out.contains("OK"), "CLUSTER FAILOVER: {out}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.cli_line(replica, "ROLE").starts_with("master") {
            assert!(Instant::now() < deadline, "{replica} did not take over");
            std::thread::sleep(Duration::from_millis(50));
        }
        self.wait_owner(slot, replica, Duration::from_secs(30));
        primary
    }
}

/// A stream name served by `m`: plain (its `:dead` key lands in another
/// slot, so moves to it are not atomic) or hash-tagged (`{name}`: its
/// derived keys share its slot).
pub fn stream_on(m: &streamlab::redis::topology::Master, base: &str, tagged: bool) -> String {
    use streamlab::redis::topology::key_slot;
    (0..)
        .map(|i| {
            if tagged {
                format!("{{{base}-{i}}}")
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|k| m.owns(key_slot(k)) && (tagged || key_slot(&format!("{k}:dead")) != key_slot(k)))
        .expect("a name on every master")
}

/// Every kind of request follows a slot migration through `connector`:
/// ASK for a command, a pipeline and a MULTI/EXEC on the moved key,
/// TRYAGAIN for a MULTI/EXEC over two keys of the moving slot (one not
/// there yet) until the slot is settled, then MOVED. Moves a slot of the
/// first master to the second.
pub async fn migration_is_followed(c: &LocalCluster, connector: &streamlab::redis::Connector) {
    use streamlab::redis::topology::key_slot;
    use streamlab::redis::{EntryId, dead_letter, xadd_batch, xlen};
    let masters = connector.masters().await.expect("masters");
    let (from, to) = (&masters[0], &masters[1]);
    let stream = stream_on(from, &crate::common::unique("move"), true);
    let dead = format!("{stream}:dead");
    let mut conn = connector.conn("mover");
    let ids = crate::common::add_tasks(&mut conn, &stream, 4).await;
    crate::common::raw(&mut conn, &["XGROUP", "CREATE", &stream, "g", "0"]).await;
    crate::common::read_without_ack(&mut conn, &stream, "g", "c", 4).await;
    let slot = key_slot(&stream);
    c.begin_migration(slot, from.addr.port, to.addr.port);
    // The key is on the importing node now: ASK.
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN via ASK"), 4);
    let batch = vec![vec![("kind", b"x".to_vec())]; 3];
    let added = xadd_batch(&mut conn, &stream, None, &batch)
        .await
        .expect("XADD via ASK");
    assert_eq!(added.len(), 3);
    let mut multi = ::redis::pipe();
    multi.atomic();
    multi.cmd("XADD").arg(&stream).arg("*").arg("kind").arg("y");
    multi.cmd("XLEN").arg(&stream);
    let exec = conn
        .run_pipeline(&multi, "XADD", true, 4)
        .await
        .expect("MULTI/EXEC via ASK");
    assert_eq!(exec.get(1), Some(&::redis::Value::Int(8)), "{exec:?}");
    // A MULTI over the stream and `:dead`, which is not there yet: the
    // importing node answers TRYAGAIN until the slot is settled, and
    // streamlab waits and sends it again.
    let mut mover = connector.conn("mover-dead");
    let (stream_k, dead_k, first) = (stream.clone(), dead.clone(), ids[0]);
    let moving = tokio::spawn(async move {
        dead_letter(
            &mut mover,
            &stream_k,
            &dead_k,
            "g",
            first,
            &[("error", b"x")],
        )
        .await
    });
    // The slot is settled only once the importing node has refused the
    // MULTI at least once, so the TRYAGAIN path is the one proved here.
    let tryagain = |c: &LocalCluster| c.error_count(to.addr.port, "TRYAGAIN");
    let before = tryagain(c);
    let deadline =
        crate::common::Deadline::new("a TRYAGAIN at the importing node", Duration::from_secs(10));
    while tryagain(c) == before {
        deadline.tick().await;
    }
    c.end_migration(slot, to.addr.port);
    let moved: EntryId = moving
        .await
        .expect("the task ran")
        .expect("MULTI/EXEC after TRYAGAIN");
    assert!(moved > EntryId::ZERO);
    // Then MOVED: the map learns the new owner.
    assert_eq!(xlen(&mut conn, &stream).await.expect("XLEN after MOVED"), 8);
    assert_eq!(
        connector.node_of(&stream).map(|n| n.port),
        Some(to.addr.port)
    );
    assert_eq!(
        crate::common::pending_count(&mut conn, &stream, "g").await,
        3
    );
    assert!(
        c.cli_line(to.addr.port, "INFO commandstats")
            .contains("cmdstat_asking:"),
        "ASKING reached the importing node"
    );
}

/// A connector that talks to `url`'s node only (REDIS_CLUSTER=false):
/// to see what one node holds.
pub fn single_node(url: &str) -> streamlab::redis::Connector {
    let settings = streamlab::redis::config::RedisSettings::from_inputs(
        &streamlab::redis::config::RedisInputs {
            url: Some(url.to_owned()),
            cluster: Some("false".into()),
            ..Default::default()
        },
    )
    .expect("valid url");
    streamlab::redis::Connector::new(settings).expect("connector")
}
