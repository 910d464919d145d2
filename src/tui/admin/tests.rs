//! The admin actions through `update`, as the keys drive them: what each
//! confirmation says it will send, which ones want the stream's name typed,
//! and the engine command that comes out (or does not).

use crate::engine::retention::{Cost, EntryCount, GroupLimit, Hold, Plan, Removal, Target};
use crate::redis::Retention;
use crate::supervisor::{EngineCommand, Outcome, PendingOfDeleted};
use crate::tui::action::{Action, Intent};
use crate::tui::confirm::Confirmation;
use crate::tui::fixture::{self, id};
use crate::tui::state::{Mode, Pane, Screen, State};
use crate::tui::update::press::{key, status, typed};
use crate::tui::update::update;

/// Replace a prompt's suggested text with `text`.
fn retype(state: &mut State, text: &str) {
    if let Mode::Input { text: t, .. } = &mut state.view.mode {
        t.clear();
    }
    typed(state, text);
}

fn confirmation(state: &State) -> &Confirmation {
    match &state.view.mode {
        Mode::Confirm(c) => c,
        other => panic!("expected a confirmation, got {other:?}"),
    }
}

/// Only the stream's name, typed in full, sends a data-losing command.
fn confirm_by_typing(state: &mut State) -> Vec<EngineCommand> {
    assert!(confirmation(state).loses_data());
    assert!(key(state, Intent::Yes).is_empty(), "y does not confirm");
    typed(state, "task");
    assert!(
        key(state, Intent::Submit).is_empty(),
        "a wrong name does not confirm"
    );
    assert!(matches!(state.view.mode, Mode::Confirm(_)), "it stays open");
    key(state, Intent::Backspace);
    typed(state, "ks");
    key(state, Intent::Submit)
}

fn select_consumer(state: &mut State, name: &str) {
    state.view.focus = Pane::Consumers;
    state.view.consumer = Some(name.into());
}

#[test]
fn ack_shows_the_exact_xack_and_y_sends_it() {
    let mut s = fixture::state();
    s.view.focus = Pane::Pending;
    key(&mut s, Intent::Ack);
    let c = confirmation(&s);
    assert_eq!(
        c.commands,
        vec![format!("XACK tasks workers {}", id(40_000, 0))]
    );
    assert!(!c.loses_data());
    let sent = key(&mut s, Intent::Yes);
    assert_eq!(
        sent,
        vec![EngineCommand::Ack {
            group: "workers".into(),
            id: id(40_000, 0)
        }]
    );
}

#[test]
fn claim_goes_to_the_consumer_typed_and_says_when_xclaim_creates_it() {
    let mut s = fixture::state();
    s.view.pel_row = 2; // host-7's entry
    key(&mut s, Intent::Claim);
    retype(&mut s, "night-shift");
    key(&mut s, Intent::Submit);
    let c = confirmation(&s);
    assert_eq!(
        c.commands,
        vec![format!(
            "XCLAIM tasks workers night-shift 0 {}",
            id(30_000, 0)
        )]
    );
    assert!(
        c.effects.iter().any(|e| e.contains("XCLAIM creates it")),
        "{:?}",
        c.effects
    );
    assert_eq!(
        key(&mut s, Intent::Yes),
        vec![EngineCommand::Claim {
            group: "workers".into(),
            id: id(30_000, 0),
            to: "night-shift".into()
        }]
    );
    // Claiming to its own owner is refused in words.
    key(&mut s, Intent::Claim);
    retype(&mut s, "host-7");
    assert!(key(&mut s, Intent::Submit).is_empty());
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(
        status(&s).contains("not host-7, its owner"),
        "{:?}",
        s.status
    );
}

/// On a cluster `tasks` and `tasks:dead` are in different slots: no MULTI
/// can hold both, so the engine copies, then acks, and says so.
#[test]
fn on_a_cluster_a_dead_letter_without_a_hash_tag_is_copied_then_acked() {
    let mut s = fixture::state();
    let mut server = fixture::redis_7_2();
    server.mode = crate::redis::ServerMode::Cluster;
    s.server = Some(server);
    key(&mut s, Intent::DeadLetter);
    let c = confirmation(&s);
    assert!(
        !c.commands.iter().any(|l| l == "MULTI" || l == "EXEC"),
        "{:?}",
        c.commands
    );
    assert!(
        c.commands[1].starts_with("XADD tasks:dead * original_id"),
        "{:?}",
        c.commands
    );
    assert!(
        c.commands[2].starts_with("XACK tasks workers"),
        "{:?}",
        c.commands
    );
    assert!(c.effects[0].contains("then acked"), "{:?}", c.effects);
}

#[test]
fn dead_letter_lists_the_transaction_it_sends() {
    let mut s = fixture::state();
    key(&mut s, Intent::DeadLetter);
    let c = confirmation(&s);
    let first = id(40_000, 0);
    assert_eq!(c.commands[1], "MULTI");
    assert!(
        c.commands[2].starts_with(&format!(
            "XADD tasks:dead * original_id {first} group workers consumer w3 deliveries 1 error"
        )),
        "{:?}",
        c.commands
    );
    assert_eq!(c.commands[3], format!("XACK tasks workers {first}"));
    assert_eq!(c.commands[4], "EXEC");
}

#[test]
fn destroy_wants_the_stream_name_typed_and_esc_cancels() {
    let mut s = fixture::state();
    key(&mut s, Intent::DestroyGroup);
    let c = confirmation(&s);
    assert_eq!(c.commands, vec!["XGROUP DESTROY tasks workers".to_owned()]);
    assert!(
        c.effects[0].contains("4 consumers") && c.effects[0].contains("PEL of 6 entries"),
        "{:?}",
        c.effects
    );
    typed(&mut s, "tas");
    key(&mut s, Intent::Close);
    assert_eq!(s.view.mode, Mode::Normal);
    assert_eq!(s.status.as_deref(), Some("cancelled"));
    key(&mut s, Intent::DestroyGroup);
    assert_eq!(
        confirm_by_typing(&mut s),
        vec![EngineCommand::DestroyGroup {
            group: "workers".into()
        }]
    );
}

#[test]
fn setid_suggests_the_current_id_and_says_what_moving_it_does() {
    let mut s = fixture::state();
    key(&mut s, Intent::SetId);
    let Mode::Input { text, .. } = &s.view.mode else {
        panic!("{:?}", s.view.mode)
    };
    assert_eq!(*text, id(2_000, 0).to_string());
    retype(&mut s, "0");
    key(&mut s, Intent::Submit);
    let c = confirmation(&s);
    assert_eq!(c.commands, vec!["XGROUP SETID tasks workers 0".to_owned()]);
    assert!(c.effects[0].contains("processed twice"), "{:?}", c.effects);
    assert_eq!(
        confirm_by_typing(&mut s),
        vec![EngineCommand::SetId {
            group: "workers".into(),
            id: "0".into()
        }]
    );
    key(&mut s, Intent::SetId);
    retype(&mut s, "$");
    key(&mut s, Intent::Submit);
    assert!(
        confirmation(&s).effects[0]
            .contains("skips every entry not yet delivered to it (10 of them)")
    );
    key(&mut s, Intent::Close);
    key(&mut s, Intent::SetId);
    retype(&mut s, "soon");
    key(&mut s, Intent::Submit);
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(status(&s).contains("is not a stream id"), "{:?}", s.status);
}

#[test]
fn deleting_a_consumer_with_pending_entries_claims_them_first_or_is_typed() {
    let mut s = fixture::state();
    select_consumer(&mut s, "host-7");
    key(&mut s, Intent::DeleteConsumer);
    let Mode::Input { text, .. } = &s.view.mode else {
        panic!("{:?}", s.view.mode)
    };
    assert_eq!(text, "w1", "a running worker of ours is suggested");
    key(&mut s, Intent::Submit);
    let c = confirmation(&s);
    assert!(!c.loses_data(), "moving the entries first loses nothing");
    assert_eq!(
        c.commands.last().map(String::as_str),
        Some("XGROUP DELCONSUMER tasks workers host-7")
    );
    assert_eq!(
        key(&mut s, Intent::Yes),
        vec![EngineCommand::DeleteConsumer {
            group: "workers".into(),
            consumer: "host-7".into(),
            pending: PendingOfDeleted::ClaimTo("w1".into()),
        }]
    );
    // An empty answer drops them: that loses data, so the name is typed.
    key(&mut s, Intent::DeleteConsumer);
    retype(&mut s, "");
    key(&mut s, Intent::Submit);
    assert!(confirmation(&s).effects[0].contains("never delivered again"));
    let sent = confirm_by_typing(&mut s);
    assert!(
        matches!(
            &sent[..],
            [EngineCommand::DeleteConsumer {
                pending: PendingOfDeleted::Drop,
                ..
            }]
        ),
        "{sent:?}"
    );
    // Its own name as the taker is refused at the prompt: XCLAIM to itself
    // would count a delivery of every entry and move none.
    key(&mut s, Intent::DeleteConsumer);
    retype(&mut s, "host-7");
    assert!(key(&mut s, Intent::Submit).is_empty());
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(
        status(&s).contains("host-7 is the consumer being deleted"),
        "{:?}",
        s.status
    );
}

#[test]
fn deleting_an_idle_consumer_is_a_plain_confirmation_and_a_running_one_is_refused() {
    let mut s = fixture::state();
    if let Some(snap) = s.snapshot.as_mut() {
        let snap = std::sync::Arc::make_mut(snap);
        snap.groups[1].consumers[0].pending = 0;
    }
    select_consumer(&mut s, "host-7");
    key(&mut s, Intent::DeleteConsumer);
    assert!(!confirmation(&s).loses_data());
    assert!(matches!(
        &key(&mut s, Intent::Yes)[..],
        [EngineCommand::DeleteConsumer {
            pending: PendingOfDeleted::MustBeNone,
            ..
        }]
    ));
    select_consumer(&mut s, "w1");
    assert!(key(&mut s, Intent::DeleteConsumer).is_empty());
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(status(&s).contains("stop it first"), "{:?}", s.status);
}

fn plan(removes: u64) -> Plan {
    Plan {
        key: "tasks".into(),
        minid: id(40_000, 0),
        length: 1_234,
        limits: vec![GroupLimit {
            group: "workers".into(),
            keep_from: id(40_000, 0),
            hold: Hold::Pending(id(40_000, 0)),
        }],
        unknown: Vec::new(),
        removal: Removal {
            count: EntryCount::Exact(removes),
            first: Some(id(60_000, 0)),
            last: Some(id(40_001, 0)),
        },
        cost: Cost {
            commands: 5,
            entries_read: 0,
        },
        mode: None,
    }
}

#[test]
fn a_safe_trim_is_planned_by_the_engine_then_confirmed_by_typing() {
    let mut s = fixture::state();
    assert_eq!(
        key(&mut s, Intent::TrimSafe),
        vec![EngineCommand::PlanTrim(Target::Safe)]
    );
    assert_eq!(
        s.view.mode,
        Mode::Normal,
        "nothing to confirm before the plan"
    );
    update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::TrimPlan(Box::new(plan(20))),
            at_ms: fixture::NOW,
        },
    );
    let c = confirmation(&s);
    assert_eq!(
        c.commands,
        vec![format!("XTRIM tasks MINID {}", id(40_000, 0))]
    );
    assert!(
        c.effects[0].contains("removes 20 of 1234 entries"),
        "{:?}",
        c.effects
    );
    assert_eq!(
        confirm_by_typing(&mut s),
        vec![EngineCommand::Trim(Retention::min_id(id(40_000, 0)))]
    );
    // A plan that removes nothing only says so.
    update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::TrimPlan(Box::new(plan(0))),
            at_ms: fixture::NOW,
        },
    );
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(
        s.status
            .as_deref()
            .unwrap_or_default()
            .starts_with("nothing to trim")
    );
}

/// A partitioned stream with `{tasks.p1}` selected: its own figures
/// (length 40, where the totals say 1,234).
fn on_second_partition() -> State {
    use crate::monitor::partitioned::PartitionRow;
    use std::sync::Arc;
    let mut s = fixture::state();
    let mut p1 = fixture::snapshot();
    p1.key = "{tasks.p1}".into();
    if let Some(info) = p1.stream.as_mut() {
        info.length = 40;
    }
    let row = |key: &str, snapshot| PartitionRow {
        key: key.into(),
        node: None,
        snapshot: Arc::new(snapshot),
    };
    s.partitions = vec![
        row("{tasks.p0}", fixture::snapshot()),
        row("{tasks.p1}", p1),
    ];
    s.view.partition = 1;
    s
}

#[test]
fn on_a_partition_the_confirmation_names_the_key_the_engine_acts_on() {
    let mut s = on_second_partition();
    s.view.focus = Pane::Pending;
    key(&mut s, Intent::Ack);
    assert_eq!(
        confirmation(&s).commands,
        vec![format!("XACK {{tasks.p1}} workers {}", id(40_000, 0))]
    );
    key(&mut s, Intent::No);
    key(&mut s, Intent::Trim);
    typed(&mut s, "10");
    key(&mut s, Intent::Submit);
    let c = confirmation(&s);
    assert_eq!(c.commands, vec!["XTRIM {tasks.p1} MAXLEN = 10".to_owned()]);
    assert!(
        c.effects[0].contains("the oldest 30 of 40 entries"),
        "{:?}",
        c.effects
    );
    key(&mut s, Intent::Close);
    key(&mut s, Intent::DestroyGroup);
    assert_eq!(
        confirmation(&s).commands,
        vec!["XGROUP DESTROY {tasks.p1} workers".to_owned()]
    );
}

#[test]
fn the_trim_prompt_takes_a_length_an_id_or_safe() {
    let mut s = fixture::state();
    key(&mut s, Intent::Trim);
    typed(&mut s, "1700000000000-5");
    let minid = "1700000000000-5".parse().unwrap();
    assert_eq!(
        key(&mut s, Intent::Submit),
        vec![EngineCommand::PlanTrim(Target::MinId(minid))]
    );
    key(&mut s, Intent::Trim);
    typed(&mut s, "safe");
    assert_eq!(
        key(&mut s, Intent::Submit),
        vec![EngineCommand::PlanTrim(Target::Safe)]
    );
}

#[test]
fn admin_keys_need_writes_and_are_plain_characters_in_a_typed_confirmation() {
    use crate::tui::access::Needs;
    use crate::tui::hints::needs;
    use crate::tui::keymap::lookup;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let press = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let intent = |mode: &Mode, c| match lookup(mode, Screen::Stream, &press(c)) {
        Some(Action::Key(i)) => Some(i),
        _ => None,
    };
    for (c, i) in [
        ('T', Intent::TrimSafe),
        ('D', Intent::DeleteConsumer),
        ('S', Intent::SetId),
        ('X', Intent::DestroyGroup),
    ] {
        assert_eq!(intent(&Mode::Normal, c), Some(i));
        assert_eq!(needs(i), Needs::Writes, "{i:?}");
    }
    let mut s = fixture::state();
    key(&mut s, Intent::DestroyGroup);
    for c in ['y', 'X', 'q', 'n'] {
        assert!(
            matches!(lookup(&s.view.mode, Screen::Stream, &press(c)), Some(Action::Char(ch)) if ch == c),
            "{c} types into the name"
        );
    }
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    assert!(matches!(
        lookup(&s.view.mode, Screen::Stream, &esc),
        Some(Action::Key(Intent::Close))
    ));
}

#[test]
fn a_read_only_watch_refuses_every_admin_action() {
    use crate::tui::access::Access;
    let mut s = fixture::watch(Access::Watch);
    for i in [
        Intent::TrimSafe,
        Intent::DeleteConsumer,
        Intent::SetId,
        Intent::DestroyGroup,
    ] {
        assert!(key(&mut s, i).is_empty(), "{i:?}");
        assert_eq!(s.view.mode, Mode::Normal);
        assert!(
            s.status
                .as_deref()
                .unwrap_or_default()
                .contains("--allow-writes"),
            "{i:?}"
        );
    }
}

/// The fixture's server, made a Redis 8.2.3.
fn on_redis_8_2(s: &mut State) {
    use crate::redis::server::Identity;
    use crate::redis::{ServerInfo, ServerMode, ServerName, Version};
    let identity = Identity {
        name: ServerName::Redis,
        version: Version::new(8, 2, 3),
        mode: ServerMode::Standalone,
    };
    s.server = Some(ServerInfo::derive(identity, None));
}

#[test]
fn trim_modes_on_8_2_show_the_exact_command_and_are_refused_before() {
    use crate::redis::TrimMode;
    let mut s = fixture::state();
    // The fixture's Redis 7.2 has no trim modes: refused, nothing sent.
    key(&mut s, Intent::Trim);
    typed(&mut s, "1000 acked");
    assert!(key(&mut s, Intent::Submit).is_empty());
    assert!(status(&s).contains("Redis 8.2"), "{:?}", s.status);
    assert!(status(&s).contains("nothing was sent"), "{:?}", s.status);
    key(&mut s, Intent::Trim);
    typed(&mut s, "acked");
    assert!(key(&mut s, Intent::Submit).is_empty());
    assert!(status(&s).contains("Redis 8.2"), "{:?}", s.status);

    on_redis_8_2(&mut s);
    key(&mut s, Intent::Trim);
    typed(&mut s, "1000 ACKED");
    assert!(key(&mut s, Intent::Submit).is_empty(), "confirmed first");
    let c = confirmation(&s);
    assert_eq!(
        c.commands,
        vec!["XTRIM tasks MAXLEN = 1000 ACKED".to_owned()]
    );
    assert!(c.effects[0].contains("only those every group has read and acked"));
    let retention = Retention::max_len(1000, true).with_mode(Some(TrimMode::Acked));
    assert_eq!(
        confirm_by_typing(&mut s),
        vec![EngineCommand::Trim(retention)]
    );

    let minid: crate::redis::EntryId = "1700000000000-5".parse().unwrap();
    key(&mut s, Intent::Trim);
    typed(&mut s, "1700000000000-5 delref");
    assert_eq!(
        key(&mut s, Intent::Submit),
        vec![EngineCommand::PlanModeTrim(
            Target::MinId(minid),
            TrimMode::DelRef
        )]
    );
    key(&mut s, Intent::Trim);
    typed(&mut s, "acked");
    assert_eq!(
        key(&mut s, Intent::Submit),
        vec![EngineCommand::PlanAckedTrim]
    );
    for bad in ["safe acked", "1000 sometimes", "acked delref"] {
        key(&mut s, Intent::Trim);
        typed(&mut s, bad);
        assert!(key(&mut s, Intent::Submit).is_empty(), "{bad}");
        assert!(s.status.is_some(), "{bad}");
    }
}

#[test]
fn a_planned_minid_with_a_mode_confirms_the_command_it_sends() {
    use crate::redis::TrimMode;
    let mut s = fixture::state();
    on_redis_8_2(&mut s);
    let planned = plan(20).with_mode(Some(TrimMode::Acked));
    update(
        &mut s,
        Action::Outcome {
            outcome: Outcome::TrimPlan(Box::new(planned)),
            at_ms: fixture::NOW,
        },
    );
    let c = confirmation(&s);
    assert_eq!(
        c.commands,
        vec![format!("XTRIM tasks MINID {} ACKED", id(40_000, 0))]
    );
    assert!(
        c.effects[0].contains("removes at most 20"),
        "{:?}",
        c.effects
    );
    assert_eq!(
        confirm_by_typing(&mut s),
        vec![EngineCommand::Trim(
            Retention::min_id(id(40_000, 0)).with_mode(Some(TrimMode::Acked))
        )]
    );
}

#[test]
fn an_acked_plan_is_confirmed_with_its_count_or_says_nothing_is_done() {
    use crate::engine::retention::{AckedGroup, AckedPlan, Kept};
    let acked = |removes| AckedPlan {
        key: "tasks".into(),
        length: 100,
        read_by_all: Some(id(30_000, 0)),
        groups: vec![AckedGroup {
            name: "workers".into(),
            last_delivered: Some(id(30_000, 0)),
            pending: 3,
        }],
        read: EntryCount::Exact(60),
        kept: Kept::Exact(3),
        removal: EntryCount::Exact(removes),
        cost: Cost::default(),
    };
    let mut s = fixture::state();
    on_redis_8_2(&mut s);
    let outcome = Outcome::AckedPlan(Box::new(acked(57)));
    update(
        &mut s,
        Action::Outcome {
            outcome,
            at_ms: fixture::NOW,
        },
    );
    let c = confirmation(&s);
    assert_eq!(c.commands, vec!["XTRIM tasks MAXLEN = 0 ACKED".to_owned()]);
    assert!(
        c.effects[0].contains("removes 57 of 100 entries")
            && c.effects[0].contains("keeps 3 entries pending"),
        "{:?}",
        c.effects
    );
    assert_eq!(
        confirm_by_typing(&mut s),
        vec![EngineCommand::Trim(AckedPlan::retention())]
    );
    let outcome = Outcome::AckedPlan(Box::new(acked(0)));
    update(
        &mut s,
        Action::Outcome {
            outcome,
            at_ms: fixture::NOW,
        },
    );
    assert_eq!(s.view.mode, Mode::Normal);
    assert!(status(&s).contains("nothing to trim"), "{:?}", s.status);
}
