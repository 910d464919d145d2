//! End-to-end latency at a fixed offered rate: the producer stamps each
//! entry with the microsecond it was sent; a group reader records receipt
//! minus stamp. Both run in this process, so they share one clock.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use crate::redis::{Connector, GroupRead, RedisFailure, create_group, xack, xadd_cmd, xreadgroup};

/// Microseconds since the epoch.
pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// Latency samples in microseconds, sorted on demand.
#[derive(Debug, Default)]
pub struct Samples(pub Vec<u64>);

impl Samples {
    /// The `q` quantile (0..=1) in milliseconds, nearest-rank.
    #[expect(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "quantile index math on small counts"
    )]
    pub fn quantile_ms(&mut self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let rank = ((q * self.0.len() as f64).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1] as f64 / 1000.0
    }
}

/// Offer `rate` entries/s for `duration` and measure stamp-to-receipt.
pub async fn measure(
    connector: &Connector,
    key: &str,
    rate: f64,
    duration: Duration,
) -> Result<Samples, RedisFailure> {
    let group = "bench";
    let mut admin = connector.conn("bench-admin");
    create_group(&mut admin, key, group, "$").await?;
    // Both sockets dialled first (on a cluster: to the key's node), so the
    // first sample is not a connect.
    let mut reader_conn = connector.blocking_conn("bench-reader", Duration::from_millis(100));
    reader_conn.connect_for(key).await?;
    let mut producer = connector.conn("bench-producer");
    producer.connect_for(key).await?;
    let cancel = CancellationToken::new();
    let reader = tokio::spawn(read_loop(reader_conn, key.to_owned(), cancel.clone()));
    let key_owned = key.to_owned();
    // The producer paces itself on its own OS thread with thread::sleep
    // (~60 us grain): tokio's 1 ms timer would send in bursts, and a
    // yield-spin would steal the core that Redis and the reader need.
    let paced = std::thread::spawn(move || paced_producer(producer, &key_owned, rate, duration));
    let sent = tokio::task::spawn_blocking(move || paced.join())
        .await
        .map_err(|e| RedisFailure::Server(format!("latency producer died: {e}")))?
        .map_err(|_| RedisFailure::Server("latency producer panicked".into()))??;
    // Let the reader catch up on what is in flight, then stop it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    let samples = reader
        .await
        .map_err(|e| RedisFailure::Server(format!("latency reader died: {e}")))??;
    tracing::info!(sent, received = samples.0.len(), "latency phase done");
    Ok(samples)
}

fn paced_producer(
    mut conn: crate::redis::Conn,
    key: &str,
    rate: f64,
    duration: Duration,
) -> Result<u64, RedisFailure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RedisFailure::Server(format!("cannot start the producer runtime: {e}")))?;
    runtime.block_on(async {
        let started = Instant::now();
        let mut sent: u64 = 0;
        while started.elapsed() < duration {
            #[expect(clippy::cast_precision_loss, reason = "seconds as float")]
            let next = Duration::from_secs_f64(sent as f64 / rate);
            std::thread::sleep(next.saturating_sub(started.elapsed()));
            let stamp = now_us().to_string();
            let c = xadd_cmd(
                key,
                None,
                &[("kind", b"latency"), ("sent_us", stamp.as_bytes())],
            );
            conn.run(&c, "XADD", true).await?;
            sent += 1;
        }
        Ok(sent)
    })
}

async fn read_loop(
    mut conn: crate::redis::Conn,
    key: String,
    cancel: CancellationToken,
) -> Result<Samples, RedisFailure> {
    let mut samples = Samples::default();
    while !cancel.is_cancelled() {
        let batch = xreadgroup(
            &mut conn,
            &key,
            "bench",
            "reader",
            GroupRead::New,
            100,
            Some(100),
        )
        .await?;
        let received = now_us();
        let ids: Vec<_> = batch.iter().map(|e| e.id).collect();
        for e in &batch {
            if let Some(sent) = e.field_str("sent_us").and_then(|s| s.parse::<u64>().ok()) {
                samples.0.push(received.saturating_sub(sent));
            }
        }
        xack(&mut conn, &key, "bench", &ids).await?;
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_use_nearest_rank() {
        let mut s = Samples((1..=1000).collect());
        assert!((s.quantile_ms(0.5) - 0.5).abs() < 1e-9);
        assert!((s.quantile_ms(0.99) - 0.99).abs() < 1e-9);
        assert!((s.quantile_ms(0.999) - 0.999).abs() < 1e-9);
        assert!(Samples::default().quantile_ms(0.5).abs() < f64::EPSILON);
    }
}
