//! A plain-TCP RESP2 link with its own reply parser, used by [`Conn`] for
//! `redis://` servers instead of the crate's multiplexed connection.
//!
//! Why: the crate parses replies with a combinator parser that costs about
//! 1,000 instructions per reply element; a drained entry is 11 elements, and
//! that parse was four fifths of the drain's client CPU, the bound on the
//! drain. `examples/resp_parse` (README "Performance"): 11,349 against
//! 4,188 instructions per entry under callgrind, 1.5-2.2 us against
//! 0.40-0.55 us of wall time. Everything else stays the crate's: commands are packed by
//! `Cmd`/`Pipeline`, error replies are parsed by the crate (so errors read
//! exactly as before), and TLS or RESP3 servers keep the crate's connection.
//! `STREAMLAB_RESP=crate` forces the crate's connection everywhere.
//!
//! One request at a time (a `Conn` is one role's socket): write the packed
//! commands, read exactly as many replies. A request whose future is dropped
//! half-way leaves the link poisoned, and [`Conn`] dials a fresh one.
//!
//! [`Conn`]: crate::redis::Conn

use std::io;
use std::time::Duration;

use ::redis::{ErrorKind, RedisError, RedisResult, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Nesting deeper than this is refused (the crate's limit too).
const MAX_DEPTH: usize = 100;

/// Whether `redis://` servers get this link (unless `STREAMLAB_RESP=crate`).
pub fn enabled() -> bool {
    std::env::var("STREAMLAB_RESP").map_or(true, |v| v != "crate")
}

pub struct RespLink {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed by parsed replies.
    start: usize,
    /// A request started and has not read all its replies.
    in_flight: bool,
}

impl RespLink {
    /// Connect, authenticate and select the database as the crate does.
    pub async fn connect(
        host: &str,
        port: u16,
        info: &::redis::RedisConnectionInfo,
        timeout: Duration,
    ) -> RedisResult<Self> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        let mut link = Self {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            start: 0,
            in_flight: false,
        };
        if let Some(password) = info.password() {
            let mut auth = ::redis::cmd("AUTH");
            if let Some(user) = info.username() {
                auth.arg(user);
            }
            auth.arg(password);
            let mut reply = link.request(&auth.get_packed_command(), 1).await?;
            // Servers before 6.0 know no users: the crate retries without.
            if info.username().is_some() && is_wrong_arity(&reply) {
                let auth = ::redis::cmd("AUTH").arg(password).get_packed_command();
                reply = link.request(&auth, 1).await?;
            }
            if !matches!(reply.as_slice(), [Value::Okay]) {
                return Err(RedisError::from((
                    ErrorKind::AuthenticationFailed,
                    "Password authentication failed",
                )));
            }
        }
        if info.db() != 0 {
            let select = ::redis::cmd("SELECT").arg(info.db()).get_packed_command();
            if let [Value::ServerError(e)] = link.request(&select, 1).await?.as_slice() {
                let kind: ErrorKind = ::redis::ServerErrorKind::ResponseError.into();
                return Err(RedisError::from((
                    kind,
                    "Redis server refused to switch database",
                    e.details().unwrap_or_default().to_owned(),
                )));
            }
        }
        Ok(link)
    }

    /// A request was abandoned half-way: replies may still be on the way.
    pub fn is_poisoned(&self) -> bool {
        self.in_flight
    }

    /// Send `packed` (one or more commands) and read `replies` replies.
    pub async fn request(&mut self, packed: &[u8], replies: usize) -> RedisResult<Vec<Value>> {
        if self.in_flight {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "an earlier request on this connection was abandoned",
            )
            .into());
        }
        self.in_flight = true;
        self.stream.write_all(packed).await?;
        let mut out = Vec::with_capacity(replies);
        while out.len() < replies {
            out.push(self.next_reply().await?);
        }
        if self.start < self.buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the server sent more replies than commands",
            )
            .into());
        }
        self.buf.clear();
        // One large reply (a 16 MB payload) must not pin its buffer for
        // the life of the connection: the dashboard's RSS target is 50 MB.
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::with_capacity(64 * 1024);
        }
        self.start = 0;
        self.in_flight = false;
        Ok(out)
    }

    async fn next_reply(&mut self) -> RedisResult<Value> {
        let mut scan = Scan::default();
        loop {
            if let Some(end) = scan.advance(&self.buf, self.start)? {
                let mut pos = self.start;
                let value = parse(&self.buf[..end], &mut pos, 0)?;
                self.start = end;
                return Ok(value);
            }
            self.buf.reserve(64 * 1024);
            if self.stream.read_buf(&mut self.buf).await? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed by the server",
                )
                .into());
            }
        }
    }
}

/// The first reply in `buf` and the bytes it took, `None` if incomplete:
/// what the link does with each reply, exposed for `examples/resp_parse`.
pub fn parse_one(buf: &[u8]) -> RedisResult<Option<(Value, usize)>> {
    let Some(end) = Scan::default().advance(buf, 0)? else {
        return Ok(None);
    };
    let mut pos = 0;
    Ok(Some((parse(&buf[..end], &mut pos, 0)?, end)))
}

fn is_wrong_arity(reply: &[Value]) -> bool {
    matches!(reply, [Value::ServerError(e)]
        if e.details().is_some_and(|d| d.contains("wrong number of arguments for 'auth' command")))
}

/// Out of line: every caller is on the parser's hot path, the error never.
#[cold]
fn protocol_error(what: &str) -> RedisError {
    io::Error::new(io::ErrorKind::InvalidData, format!("RESP: {what}")).into()
}

/// Finds where a complete reply ends without building it, resuming where
/// the previous call stopped when more bytes arrive (a 500-entry reply
/// comes in several reads).
#[derive(Default)]
struct Scan {
    /// Start of the next element to scan (0 until the first call).
    pos: Option<usize>,
    /// Elements still to come in each open array.
    open: Vec<usize>,
}

impl Scan {
    fn advance(&mut self, buf: &[u8], start: usize) -> RedisResult<Option<usize>> {
        let mut pos = self.pos.unwrap_or(start);
        loop {
            let Some((kind, head, after)) = header(buf, pos)? else {
                self.pos = Some(pos);
                return Ok(None);
            };
            let mut complete = true;
            match kind {
                b'$' => match number(head)? {
                    -1 => pos = after,
                    len => {
                        let end = after + length(len)? + 2;
                        if buf.len() < end {
                            self.pos = Some(pos);
                            return Ok(None);
                        }
                        // A payload that does not end in CRLF where its
                        // length says means a desync: building replies from
                        // the bytes after it would be wrong, so fail instead.
                        if buf[end - 2..end] != *b"\r\n" {
                            return Err(protocol_error(
                                "a bulk string not followed by CRLF (its declared length is wrong)",
                            ));
                        }
                        pos = end;
                    }
                },
                b'*' => {
                    pos = after;
                    match number(head)? {
                        -1 | 0 => {}
                        n => {
                            if self.open.len() >= MAX_DEPTH {
                                return Err(protocol_error("nested too deep"));
                            }
                            self.open.push(length(n)?);
                            complete = false;
                        }
                    }
                }
                b'+' | b'-' | b':' => pos = after,
                _ => return Err(protocol_error("unexpected type byte")),
            }
            while complete {
                match self.open.last_mut() {
                    None => return Ok(Some(pos)),
                    Some(left) => {
                        *left -= 1;
                        complete = *left == 0;
                        if complete {
                            self.open.pop();
                        }
                    }
                }
            }
        }
    }
}

/// The type byte, the header line and where the line ends; `None` if the
/// line is not complete yet.
fn header(buf: &[u8], pos: usize) -> RedisResult<Option<(u8, &[u8], usize)>> {
    let Some(&kind) = buf.get(pos) else {
        return Ok(None);
    };
    let rest = &buf[pos + 1..];
    let Some(cr) = rest.iter().position(|&b| b == b'\r') else {
        return Ok(None);
    };
    match rest.get(cr + 1) {
        None => Ok(None),
        Some(b'\n') => Ok(Some((kind, &rest[..cr], pos + 1 + cr + 2))),
        Some(_) => Err(protocol_error("a line without CRLF")),
    }
}

/// A length or integer. Up to 18 digits cannot overflow, so the common
/// case is a plain loop (the generic UTF-8 check and `parse` were a fifth
/// of the link's instructions); longer ones take the generic path.
fn number(line: &[u8]) -> RedisResult<i64> {
    let bad = || protocol_error("a bad number");
    let (negative, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 18 {
        return std::str::from_utf8(line)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(bad);
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(bad());
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Ok(if negative { -n } else { n })
}

fn length(n: i64) -> RedisResult<usize> {
    usize::try_from(n).map_err(|_| protocol_error("a negative length"))
}

/// Build the reply that [`Scan`] found complete (and well-formed) in `buf`.
fn parse(buf: &[u8], pos: &mut usize, depth: usize) -> RedisResult<Value> {
    let (kind, head, after) =
        header(buf, *pos)?.ok_or_else(|| protocol_error("a truncated reply"))?;
    let line_start = *pos;
    *pos = after;
    Ok(match kind {
        b'+' if head == b"OK" => Value::Okay,
        b'+' => Value::SimpleString(String::from_utf8_lossy(head).into_owned()),
        b':' => Value::Int(number(head)?),
        // Error replies are rare: the crate parses them, so they carry the
        // same codes and details as on its own connections.
        b'-' => ::redis::parse_redis_value(&buf[line_start..after])?,
        b'$' => match number(head)? {
            -1 => Value::Nil,
            len => {
                let end = after + length(len)?;
                let data = buf
                    .get(after..end)
                    .ok_or_else(|| protocol_error("a truncated bulk string"))?;
                // [`Scan`] checked the CRLF after it.
                *pos = end + 2;
                Value::BulkString(data.to_vec())
            }
        },
        b'*' => match number(head)? {
            -1 => Value::Nil,
            n => {
                if depth >= MAX_DEPTH {
                    return Err(protocol_error("nested too deep"));
                }
                let n = length(n)?;
                let mut items = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    items.push(parse(buf, pos, depth + 1)?);
                }
                Value::Array(items)
            }
        },
        _ => return Err(protocol_error("unexpected type byte")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(bytes: &[u8]) -> (Value, Value) {
        let mut scan = Scan::default();
        let end = scan.advance(bytes, 0).unwrap().expect("complete");
        assert_eq!(end, bytes.len());
        let mut pos = 0;
        let ours = parse(bytes, &mut pos, 0).unwrap();
        (ours, ::redis::parse_redis_value(bytes).unwrap())
    }

    #[test]
    fn replies_parse_as_the_crate_parses_them() {
        for reply in [
            &b"+OK\r\n"[..],
            b"+QUEUED\r\n",
            b":-42\r\n",
            b":9223372036854775807\r\n",
            b":-9223372036854775808\r\n",
            b"$-1\r\n",
            b"*-1\r\n",
            b"*0\r\n",
            b"$0\r\n\r\n",
            b"$3\r\n\xff\x00\r\r\n",
            b"-NOGROUP No such key 'k' or consumer group 'g'\r\n",
            b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\n2-0\r\n*-1\r\n",
            b"*3\r\n:1\r\n*0\r\n-ERR inner\r\n",
        ] {
            let (ours, theirs) = both(reply);
            assert_eq!(ours, theirs, "{}", String::from_utf8_lossy(reply));
        }
    }

    #[test]
    fn a_reply_split_anywhere_is_found_complete_only_at_its_end() {
        let reply = b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$4\r\nkind\r\n$5\r\nemail\r\n:7\r\n";
        for cut in 0..reply.len() {
            let mut scan = Scan::default();
            assert_eq!(scan.advance(&reply[..cut], 0).unwrap(), None, "cut {cut}");
            // Resumed with the whole reply, as after a second read.
            assert_eq!(
                scan.advance(reply, 0).unwrap(),
                Some(reply.len()),
                "cut {cut}"
            );
        }
    }

    /// RESP2 encoding of the value shapes the link can meet.
    fn encode(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Nil => out.extend_from_slice(b"$-1\r\n"),
            Value::Okay => out.extend_from_slice(b"+OK\r\n"),
            Value::Int(i) => out.extend_from_slice(format!(":{i}\r\n").as_bytes()),
            Value::SimpleString(s) => out.extend_from_slice(format!("+{s}\r\n").as_bytes()),
            Value::BulkString(b) => {
                out.extend_from_slice(format!("${}\r\n", b.len()).as_bytes());
                out.extend_from_slice(b);
                out.extend_from_slice(b"\r\n");
            }
            Value::Array(items) => {
                out.extend_from_slice(format!("*{}\r\n", items.len()).as_bytes());
                for item in items {
                    encode(item, out);
                }
            }
            _ => unreachable!("not generated"),
        }
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Nil),
            Just(Value::Okay),
            any::<i64>().prop_map(Value::Int),
            "[a-zA-Z0-9 ]{0,12}".prop_map(Value::SimpleString),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::BulkString),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            proptest::collection::vec(inner, 0..8).prop_map(Value::Array)
        })
    }

    proptest::proptest! {
        #[test]
        fn any_reply_split_anywhere_parses_as_the_crate_parses_it(
            v in value(),
            cut in 0.0..1.0f64,
        ) {
            let mut bytes = Vec::new();
            encode(&v, &mut bytes);
            #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss, reason = "a cut point")]
            let cut = (cut * bytes.len() as f64) as usize;
            let mut scan = Scan::default();
            proptest::prop_assert_eq!(scan.advance(&bytes[..cut], 0).unwrap(), None);
            proptest::prop_assert_eq!(scan.advance(&bytes, 0).unwrap(), Some(bytes.len()));
            let (ours, theirs) = both(&bytes);
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn a_bulk_whose_declared_length_is_wrong_is_an_error_not_a_misparse() {
        for bad in [
            // Shorter than the payload: read as "ab", "c\r\n" left over.
            &b"$2\r\nabc\r\n"[..],
            // Longer, reaching into the next reply.
            b"$5\r\nabc\r\n:1\r\n",
            // Inside an array, where every later element would shift.
            b"*2\r\n$2\r\nabc\r\n$1\r\nx\r\n",
            b"*2\r\n$4\r\nabc\r\n$1\r\nx\r\n",
            b"$0\r\nx\r\n",
        ] {
            let text = String::from_utf8_lossy(bad);
            assert!(Scan::default().advance(bad, 0).is_err(), "{text}");
            assert!(parse_one(bad).is_err(), "{text}");
        }
    }

    proptest::proptest! {
        /// Any wrong length on a payload without CR: never a reply. Shorter
        /// is an error at once; longer is not complete yet (the link reads
        /// on, and fails once the bytes where the CRLF should be are in).
        #[test]
        fn a_wrong_bulk_length_never_gives_a_reply(
            payload in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            declared in 0usize..60,
        ) {
            let payload: Vec<u8> = payload
                .into_iter()
                .map(|b| if b == b'\r' { b'x' } else { b })
                .collect();
            proptest::prop_assume!(declared != payload.len());
            let mut bytes = format!("${declared}\r\n").into_bytes();
            bytes.extend_from_slice(&payload);
            bytes.extend_from_slice(b"\r\n");
            let got = parse_one(&bytes);
            if declared < payload.len() {
                proptest::prop_assert!(got.is_err(), "{got:?}");
            } else {
                proptest::prop_assert!(matches!(got, Ok(None) | Err(_)), "{got:?}");
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bad in [
            &b"?x\r\n"[..],
            b"$x\r\n",
            b"$\r\n",
            b"$-\r\n",
            b"$1a\r\n",
            b"*-5\r\n",
            b"$-7\r\n",
            b"+a\rb\n",
        ] {
            assert!(Scan::default().advance(bad, 0).is_err(), "{bad:?}");
        }
    }
}
