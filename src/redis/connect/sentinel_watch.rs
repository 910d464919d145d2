//! Hearing of a failover as soon as the sentinels decide it: a subscription
//! to `+switch-master` on one sentinel (the one asked first), kept for the
//! connector's life. Without it a client learns of the new master only
//! when its socket to the old one breaks, and Sentinel demotes the old
//! master (and kills its clients) some seconds after the switch: writes
//! sent there meanwhile are acknowledged and then lost. Measured on Redis
//! 7.0: `+switch-master` at 1.1 s after `SENTINEL FAILOVER`, the old master
//! still a master 8 s later.
//!
//! The task holds the sentinels weakly and ends once the connector is
//! gone (checked each [`IDLE_CHECK`]). After each (re)subscription the
//! sentinels are asked again, so a switch missed while unsubscribed is
//! not missed for long.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;

use super::sentinel::{SENTINEL_TIMEOUT, Sentinels};
use crate::redis::topology::NodeAddr;

/// How often an idle subscription checks that its connector still exists.
const IDLE_CHECK: Duration = Duration::from_secs(5);
/// Wait between subscription attempts when no sentinel takes one.
const RETRY: Duration = Duration::from_secs(1);

/// Start watching `sentinels`' `+switch-master` (once per connector).
pub(super) fn start(sentinels: &Arc<Sentinels>) {
    if sentinels.start_watching() {
        tokio::spawn(watch(Arc::downgrade(sentinels)));
    }
}

async fn watch(sentinels: Weak<Sentinels>) {
    loop {
        let Some(strong) = sentinels.upgrade() else {
            return;
        };
        let subscribed = subscribe(&strong).await;
        drop(strong);
        let Some(mut pubsub) = subscribed else {
            tokio::time::sleep(RETRY).await;
            continue;
        };
        if let Some(strong) = sentinels.upgrade() {
            strong.forget_answer();
            let _ = strong.resolve().await;
        }
        let mut messages = pubsub.on_message();
        loop {
            let message = tokio::select! {
                m = messages.next() => m,
                () = tokio::time::sleep(IDLE_CHECK) => {
                    if sentinels.strong_count() == 0 {
                        return;
                    }
                    continue;
                }
            };
            // The subscription's socket closed: subscribe again elsewhere.
            let Some(message) = message else { break };
            let Some(strong) = sentinels.upgrade() else {
                return;
            };
            let payload = String::from_utf8_lossy(message.get_payload_bytes()).into_owned();
            if let Some(new) = switched_to(&payload, strong.master_name()) {
                strong.switched(new);
            }
        }
    }
}

/// A `+switch-master` subscription on the first sentinel (in the order
/// they are asked) that takes it.
async fn subscribe(sentinels: &Sentinels) -> Option<::redis::aio::PubSub> {
    for client in sentinels.clients_in_order() {
        let connecting = client.get_async_pubsub();
        let Ok(Ok(mut pubsub)) = tokio::time::timeout(SENTINEL_TIMEOUT, connecting).await else {
            continue;
        };
        let subscribing = pubsub.subscribe("+switch-master");
        if let Ok(Ok(())) = tokio::time::timeout(SENTINEL_TIMEOUT, subscribing).await {
            return Some(pubsub);
        }
    }
    None
}

/// `<name> <old ip> <old port> <new ip> <new port>`: the new master's
/// address when the message is about `master`.
fn switched_to(payload: &str, master: &str) -> Option<NodeAddr> {
    let words: Vec<&str> = payload.split_whitespace().collect();
    let [name, _, _, host, port] = words.as_slice() else {
        return None;
    };
    (*name == master).then(|| Some(NodeAddr::new(*host, port.parse().ok()?)))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_switch_message_names_the_new_master_of_its_own_name_only() {
        let m = "mymaster 127.0.0.1 7101 127.0.0.1 7102";
        assert_eq!(
            switched_to(m, "mymaster"),
            Some(NodeAddr::new("127.0.0.1", 7102))
        );
        assert_eq!(switched_to(m, "other"), None);
        assert_eq!(switched_to("mymaster 1 2 3", "mymaster"), None);
        assert_eq!(
            switched_to("mymaster a 1 b port", "mymaster"),
            None,
            "a port that is no number"
        );
    }
}
