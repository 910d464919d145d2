//! What parsing a drain's replies costs the client: one XREADGROUP reply
//! of 500 streamlab entries (4 fields each), parsed by the redis crate's
//! RESP parser (the one its connections use) and by streamlab's own RESP2
//! link (`streamlab::redis::resp`), which builds the same `redis::Value`
//! tree. The crate's parser was four fifths of the drain's client
//! instructions under callgrind before the link replaced it for plain-TCP
//! servers.
//!
//!     cargo run --release --example resp_parse

use std::time::Instant;

use redis::Value;

/// The allocator the binary uses: both parsers allocate every element.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ENTRIES: usize = 500;
const ROUNDS: u32 = 400;

fn main() {
    let reply = xreadgroup_reply(ENTRIES);
    let ours = link_parse(&reply);
    let theirs = redis::parse_redis_value(&reply).expect("the crate reads the reply");
    assert_eq!(ours, theirs, "both parsers build the same tree");
    for (name, f) in [
        ("redis crate parser", crate_parse as fn(&[u8]) -> Value),
        ("streamlab RESP2 link", link_parse),
    ] {
        let mut best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            for _ in 0..ROUNDS {
                std::hint::black_box(f(std::hint::black_box(&reply)));
            }
            let ns = started.elapsed().as_secs_f64() * 1e9 / f64::from(ROUNDS) / ENTRIES as f64;
            best = best.min(ns);
        }
        println!(
            "{name:20} {best:8.0} ns per entry ({} byte reply, {ENTRIES} entries)",
            reply.len()
        );
    }
}

fn crate_parse(b: &[u8]) -> Value {
    redis::parse_redis_value(b).unwrap_or(Value::Nil)
}

fn link_parse(b: &[u8]) -> Value {
    match streamlab::redis::resp::parse_one(b) {
        Ok(Some((v, _))) => v,
        _ => Value::Nil,
    }
}

/// The bytes Redis sends for XREADGROUP ... STREAMS tasks > with `n`
/// entries shaped like streamlab's (kind, payload, created_ms, seq).
fn xreadgroup_reply(n: usize) -> Vec<u8> {
    fn bulk(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(format!("${}\r\n{s}\r\n", s.len()).as_bytes());
    }
    let mut out = b"*1\r\n*2\r\n".to_vec();
    bulk(&mut out, "tasks");
    out.extend_from_slice(format!("*{n}\r\n").as_bytes());
    for i in 0..n {
        out.extend_from_slice(b"*2\r\n");
        bulk(&mut out, &format!("1795633635859-{i}"));
        out.extend_from_slice(b"*8\r\n");
        for (k, v) in [
            (
                "kind",
                ["email", "resize", "report", "webhook"][i % 4].to_owned(),
            ),
            ("payload", format!("{{\"task\":{i}}}")),
            ("created_ms", "1795633635856".to_owned()),
            ("seq", i.to_string()),
        ] {
            bulk(&mut out, k);
            bulk(&mut out, &v);
        }
    }
    out
}
