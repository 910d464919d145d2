//! What parsing a drain's replies costs the client: one XREADGROUP reply
//! of 500 streamlab entries (4 fields each), parsed by the redis crate's
//! RESP parser (the one its connections use) and by a minimal hand-written
//! RESP2 parser producing the same `redis::Value` tree. The drain is
//! client-bound on this parser (~67% of the drain's client instructions
//! under callgrind), so the difference bounds what a faster connection
//! layer would gain. The hand-written one is a measuring stick only: no
//! streaming, no RESP3, no error replies.
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
    let ours = parse(&reply).expect("the hand-written parser reads the reply");
    let theirs = redis::parse_redis_value(&reply).expect("the crate reads the reply");
    assert_eq!(ours, theirs, "both parsers build the same tree");
    for (name, f) in [
        ("redis crate parser", crate_parse as fn(&[u8]) -> Value),
        ("hand-written RESP2", hand_parse),
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

fn hand_parse(b: &[u8]) -> Value {
    parse(b).unwrap_or(Value::Nil)
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

fn parse(b: &[u8]) -> Option<Value> {
    let mut pos = 0;
    value(b, &mut pos)
}

fn line<'a>(b: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let start = *pos;
    let end = start + b.get(start..)?.windows(2).position(|w| w == b"\r\n")?;
    *pos = end + 2;
    Some(&b[start..end])
}

fn number(digits: &[u8]) -> Option<i64> {
    let (neg, digits) = match digits.split_first()? {
        (b'-', rest) => (true, rest),
        _ => (false, digits),
    };
    let n = digits.iter().try_fold(0i64, |n, &d| {
        d.is_ascii_digit()
            .then(|| n.checked_mul(10)?.checked_add(i64::from(d - b'0')))
            .flatten()
    })?;
    Some(if neg { -n } else { n })
}

fn value(b: &[u8], pos: &mut usize) -> Option<Value> {
    let kind = *b.get(*pos)?;
    *pos += 1;
    let head = line(b, pos)?;
    match kind {
        b'+' if head == b"OK" => Some(Value::Okay),
        b'+' => Some(Value::SimpleString(String::from_utf8(head.to_vec()).ok()?)),
        b':' => Some(Value::Int(number(head)?)),
        b'$' => match number(head)? {
            -1 => Some(Value::Nil),
            len => {
                let len = usize::try_from(len).ok()?;
                let data = b.get(*pos..*pos + len)?.to_vec();
                *pos += len + 2;
                Some(Value::BulkString(data))
            }
        },
        b'*' => match number(head)? {
            -1 => Some(Value::Nil),
            len => {
                let len = usize::try_from(len).ok()?;
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(value(b, pos)?);
                }
                Some(Value::Array(items))
            }
        },
        _ => None,
    }
}
