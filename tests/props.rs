//! Property tests of everything that parses untrusted data: reply decoding
//! (entries, XREAD, XAUTOCLAIM, XPENDING, XINFO) on arbitrary `redis::Value`
//! trees, tasks from arbitrary entries, stream ids, durations, rates, URLs
//! and redaction. Two kinds of property: nothing panics on any input, and
//! well-formed input decodes to exactly what was encoded. Case counts are
//! bounded so the whole file runs in seconds in CI.

use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use redis::Value;
use streamlab::duration::parse_duration;
use streamlab::engine::task::Task;
use streamlab::failure::Failure;
use streamlab::redis::config::{RedisInputs, RedisSettings};
use streamlab::redis::reply::{self, Entry};
use streamlab::redis::{
    EntryId, parse_autoclaim, parse_consumers, parse_groups, parse_pending_range,
    parse_pending_summary, parse_stream_info,
};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn entry_id() -> impl Strategy<Value = EntryId> {
    (any::<u64>(), any::<u64>()).prop_map(|(ms, seq)| EntryId { ms, seq })
}

/// Leaves a server could send, biased towards what decoders look for
/// (ids, field names of XINFO replies, small integers).
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        Just(Value::Okay),
        any::<i64>().prop_map(Value::Int),
        (0i64..5).prop_map(Value::Int),
        vec(any::<u8>(), 0..16).prop_map(Value::BulkString),
        entry_id().prop_map(|id| bulk(&id.to_string())),
        "[0-9]{1,20}-[0-9]{1,20}".prop_map(|s| bulk(&s)),
        prop::sample::select(vec![
            "name",
            "length",
            "pending",
            "consumers",
            "last-delivered-id",
            "entries-read",
            "lag",
            "idle",
            "inactive",
            "first-entry",
            "last-entry",
            "last-generated-id",
            "entries-added",
            "groups",
            "kind",
            "seq",
            "payload",
            "created_ms",
        ])
        .prop_map(bulk),
        ".{0,12}".prop_map(Value::SimpleString),
        any::<f64>().prop_map(Value::Double),
        any::<bool>().prop_map(Value::Boolean),
        ".{0,8}".prop_map(|text| Value::VerbatimString {
            format: redis::VerbatimFormat::Text,
            text
        }),
    ]
}

/// Arbitrary reply trees: arrays, maps, sets and attributes of leaves.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 96, 8, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(Value::Array),
            vec((inner.clone(), inner.clone()), 0..5).prop_map(Value::Map),
            vec(inner.clone(), 0..5).prop_map(Value::Set),
            (inner.clone(), vec((inner.clone(), inner), 0..3)).prop_map(|(data, attributes)| {
                Value::Attribute {
                    data: Box::new(data),
                    attributes,
                }
            }),
        ]
    })
}

/// A well-formed entry body: field names and binary-safe values.
fn body() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    vec(("[a-z_]{1,10}", vec(any::<u8>(), 0..32)), 0..8)
}

fn encode_entry(id: EntryId, fields: &[(String, Vec<u8>)]) -> Value {
    let flat = fields
        .iter()
        .flat_map(|(k, v)| [bulk(k), Value::BulkString(v.clone())])
        .collect();
    Value::Array(vec![bulk(&id.to_string()), Value::Array(flat)])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn reply_decoders_never_panic_on_arbitrary_trees(v in value()) {
        let _ = reply::entry(&v);
        let _ = reply::entries(&v);
        let _ = reply::read_reply(&v);
        let _ = reply::fields(&v);
        let _ = reply::table(&v);
        let _ = reply::count(&v);
        let _ = parse_autoclaim(&v);
        let _ = parse_pending_summary(&v);
        let _ = parse_pending_range(&v);
        let _ = parse_stream_info(&v);
        let _ = parse_groups(&v);
        let _ = parse_consumers(&v);
        if let Ok(entries) = reply::entries(&v) {
            for e in &entries {
                let _ = Task::from_entry(e);
            }
        }
    }

    #[test]
    fn decoders_never_panic_inside_well_shaped_replies(
        cursor in value(), claimed in vec(value(), 0..4), deleted in value(), rows in vec(value(), 0..4)
    ) {
        // The right outer shape with arbitrary insides reaches deeper code.
        let _ = parse_autoclaim(&Value::Array(vec![cursor.clone(), Value::Array(claimed.clone())]));
        let _ = parse_autoclaim(&Value::Array(vec![cursor, Value::Array(claimed.clone()), deleted]));
        let _ = reply::read_reply(&Value::Array(vec![Value::Array(vec![bulk("k"), Value::Array(claimed.clone())])]));
        let _ = parse_groups(&Value::Array(rows.clone()));
        let _ = parse_consumers(&Value::Array(rows.clone()));
        let _ = parse_pending_range(&Value::Array(rows));
        let _ = reply::entries(&Value::Array(claimed));
    }

    #[test]
    fn well_formed_entries_decode_exactly(id in entry_id(), fields in body()) {
        let e = reply::entry(&encode_entry(id, &fields)).unwrap();
        prop_assert_eq!(e.id, id);
        prop_assert_eq!(e.fields.as_ref(), Some(&fields));
        // RESP3 shape: the body as a map.
        let map = Value::Map(
            fields.iter().map(|(k, v)| (bulk(k), Value::BulkString(v.clone()))).collect(),
        );
        let e3 = reply::entry(&Value::Array(vec![bulk(&id.to_string()), map])).unwrap();
        prop_assert_eq!(e3.fields, Some(fields));
    }

    #[test]
    fn xread_replies_keep_every_entry_and_nil_bodies(
        entries in vec((entry_id(), prop::option::of(body())), 0..10)
    ) {
        let encoded = entries
            .iter()
            .map(|(id, f)| match f {
                Some(f) => encode_entry(*id, f),
                None => Value::Array(vec![bulk(&id.to_string()), Value::Nil]),
            })
            .collect();
        let reply = Value::Array(vec![Value::Array(vec![bulk("tasks"), Value::Array(encoded)])]);
        let got = reply::read_reply(&reply).unwrap();
        prop_assert_eq!(got.len(), entries.len());
        for (g, (id, f)) in got.iter().zip(&entries) {
            prop_assert_eq!(g.id, *id);
            prop_assert_eq!(&g.fields, f);
        }
    }

    #[test]
    fn xautoclaim_two_and_three_element_replies_decode(
        next in entry_id(),
        claimed in vec((entry_id(), body()), 0..6),
        deleted in vec(entry_id(), 0..6),
    ) {
        let list = Value::Array(claimed.iter().map(|(id, f)| encode_entry(*id, f)).collect());
        let dead = Value::Array(deleted.iter().map(|id| bulk(&id.to_string())).collect());
        let two = parse_autoclaim(&Value::Array(vec![bulk(&next.to_string()), list.clone()])).unwrap();
        prop_assert_eq!(two.next, next);
        prop_assert_eq!(two.claimed.len(), claimed.len());
        prop_assert!(two.deleted.is_empty());
        let three = parse_autoclaim(&Value::Array(vec![bulk(&next.to_string()), list, dead])).unwrap();
        prop_assert_eq!(three.deleted, deleted);
        let ids: Vec<EntryId> = three.claimed.iter().map(|e| e.id).collect();
        prop_assert_eq!(ids, claimed.iter().map(|(id, _)| *id).collect::<Vec<_>>());
    }

    #[test]
    fn tasks_parse_from_any_entry_and_round_trip(
        fields in vec((".{0,10}", vec(any::<u8>(), 0..24)), 0..10),
        seq in any::<u64>(), payload_bytes in 0usize..300, now in any::<u64>(),
    ) {
        // Any foreign entry: a task (maybe "unknown"), never a panic.
        let foreign = Entry { id: EntryId::ZERO, fields: Some(fields) };
        let t = Task::from_entry(&foreign).unwrap();
        prop_assert!(!t.kind.is_empty());
        // Our own tasks come back exactly.
        let task = Task::generate(seq, payload_bytes, now);
        let own = Entry {
            id: EntryId::ZERO,
            fields: Some(task.to_fields().into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
        };
        prop_assert_eq!(Task::from_entry(&own), Some(task));
    }

    #[test]
    fn entry_ids_parse_any_text_and_round_trip(s in ".{0,30}", id in entry_id()) {
        let _ = s.parse::<EntryId>();
        prop_assert_eq!(id.to_string().parse::<EntryId>(), Ok(id));
    }

    #[test]
    fn durations_parse_any_text_and_valid_ones_exactly(
        s in ".{0,12}", n in 0u64..100_000, unit in prop::sample::select(vec!["ms", "s", "m", "h", ""]),
    ) {
        let _ = parse_duration(&s);
        let text = format!("{n}{unit}");
        let expected = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            // A bare number needs a unit, except 0 (zero in every unit).
            _ => Duration::ZERO,
        };
        match parse_duration(&text) {
            Ok(d) => {
                prop_assert!(!unit.is_empty() || n == 0, "{text} accepted without a unit");
                // Exact to the microsecond (parsing goes through f64 seconds).
                let diff = d.abs_diff(expected);
                prop_assert!(diff < Duration::from_micros(1), "{text}: {d:?} vs {expected:?}");
            }
            Err(e) if unit.is_empty() => {
                prop_assert!(n != 0, "0 rejected");
                prop_assert!(e.contains(&format!("{n}ms")) && e.contains(&format!("{n}s")), "{e}");
            }
            Err(_) => prop_assert!(expected > Duration::from_secs(7 * 86_400), "{text} rejected"),
        }
    }

    #[test]
    fn rates_are_accepted_only_in_range(s in ".{0,12}", r in -10.0f64..2e7) {
        let _ = streamlab::cli::parse_rate(&s);
        let ok = streamlab::cli::parse_rate(&r.to_string()).is_ok();
        prop_assert_eq!(ok, r > 0.0 && r <= 10_000_000.0);
    }

    #[test]
    fn any_url_text_gives_settings_or_a_one_line_usage_error(s in ".{0,60}") {
        let inputs = RedisInputs { url: Some(s), ..RedisInputs::default() };
        if let Err(e) = RedisSettings::from_inputs(&inputs) {
            let shown = Failure::from(e).to_string();
            prop_assert!(!shown.contains('\n'));
            prop_assert!(shown.starts_with("REDIS_URL"), "{shown}");
        }
    }

    #[test]
    fn a_password_never_shows_in_settings_or_errors(
        // Any text a user might paste, unencoded, with a marker so it cannot
        // be confused with the host or port around it.
        tail in "[ -~]{0,16}",
        user in prop::option::of("[a-z]{1,8}"),
        port in prop::option::of(any::<u16>()),
        encode in any::<bool>(),
    ) {
        let password = format!("Zq{tail}");
        let written = if encode {
            url::form_urlencoded::byte_serialize(password.as_bytes()).collect::<String>()
        } else {
            password.clone()
        };
        let port = port.map_or_else(String::new, |p| format!(":{p}"));
        let url = format!("redis://{}:{written}@cache.example.com{port}/0", user.unwrap_or_default());
        let inputs = RedisInputs { url: Some(url), ..RedisInputs::default() };
        let shown = match RedisSettings::from_inputs(&inputs) {
            Ok(s) => format!("{s} {s:?} {}", s.redacted_url()),
            Err(e) => Failure::from(e).to_string(),
        };
        prop_assert!(!shown.contains(&password), "{password:?} shown in {shown}");
        if password.len() > 3 {
            prop_assert!(!shown.contains(&written), "{written:?} shown in {shown}");
        }
    }

    #[test]
    fn redis_password_input_never_shows(
        tail in prop_oneof!["[ -~]{1,16}", "[a-z \\t]{1,16}"], tls in any::<bool>(),
    ) {
        let password = format!("Zq{tail}");
        let inputs = RedisInputs {
            host: Some("cache.example.com".into()),
            password: Some(password.clone()),
            tls,
            ..RedisInputs::default()
        };
        let s = RedisSettings::from_inputs(&inputs).unwrap();
        let shown = format!("{s} {s:?}");
        prop_assert!(!shown.contains(&password), "{shown}");
        // Any message that quotes it is masked once it is registered.
        let failure = Failure::runtime(format!("AUTH {password} failed\nsecond line"));
        let text = failure.to_string();
        prop_assert!(!text.contains(&password) && !text.contains('\n'), "{text}");
        // Nor its whitespace-collapsed form (one-line messages collapse runs
        // of spaces; redaction must happen before that).
        let collapsed = password.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.len() >= 3 && collapsed != "Zq" {
            prop_assert!(!text.contains(&collapsed), "{collapsed:?} in {text}");
        }
    }
}
