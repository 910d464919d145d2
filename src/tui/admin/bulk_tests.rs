use super::*;
use crate::supervisor::Outcome;
use crate::tui::action::{Action, Intent};
use crate::tui::fixture::{self, NOW, pending};
use crate::tui::state::Mode;
use crate::tui::update::press::{key, status, typed};
use crate::tui::update::update;

fn on_pending() -> State {
    let mut s = fixture::state();
    s.view.focus = Pane::Pending;
    s
}

fn repair_of(commands: &[EngineCommand]) -> (&Repair, usize) {
    match commands {
        [
            EngineCommand::Repair {
                repair, entries, ..
            },
        ] => (repair, entries.len()),
        other => panic!("not one repair: {other:?}"),
    }
}

#[test]
fn space_marks_and_unmarks_the_selected_entry() {
    let mut s = on_pending();
    key(&mut s, Intent::Mark);
    key(&mut s, Intent::Down);
    key(&mut s, Intent::Mark);
    assert_eq!(s.marked().len(), 2);
    assert!(status(&s).starts_with("2 marked"), "{}", status(&s));
    key(&mut s, Intent::Mark);
    assert_eq!(s.marked().len(), 1, "Space again unmarks");
    // Marks belong to their group: another group shows none.
    s.view.group = "audit".into();
    assert!(s.marked().is_empty());
}

#[test]
fn star_asks_for_every_match_and_the_answer_marks_them() {
    let mut s = on_pending();
    s.view.filter.consumer = Some("w3".into());
    s.view.filter.min_idle_ms = Some(30_000);
    let sent = key(&mut s, Intent::MarkAll);
    let [EngineCommand::MarkMatching { group, filter }] = sent.as_slice() else {
        panic!("{sent:?}")
    };
    assert_eq!(group, "workers");
    assert_eq!(filter.consumer.as_deref(), Some("w3"));
    assert_eq!(filter.min_idle_ms, 30_000);
    let entries: Vec<PendingEntry> = (0..250)
        .map(|i| pending(90_000 - i, "w3", 40_000, 1))
        .collect();
    let outcome = Outcome::Marked {
        group: "workers".into(),
        entries,
        complete: true,
    };
    update(
        &mut s,
        Action::Outcome {
            outcome,
            at_ms: NOW,
        },
    );
    assert_eq!(s.marked().len(), 250);
    assert!(
        status(&s).contains("250 marked over the whole PEL"),
        "{}",
        status(&s)
    );
    // `*` again unmarks.
    key(&mut s, Intent::MarkAll);
    assert!(s.marked().is_empty());
}

#[test]
fn ack_on_marks_is_one_confirmation_with_the_count_and_the_command() {
    let mut s = on_pending();
    for _ in 0..3 {
        key(&mut s, Intent::Mark);
        key(&mut s, Intent::Down);
    }
    key(&mut s, Intent::Ack);
    let Mode::Confirm(c) = &s.view.mode else {
        panic!("{:?}", s.view.mode)
    };
    assert_eq!(c.title, "Ack 3 entries");
    assert!(
        c.commands[0].starts_with("XACK tasks workers "),
        "{:?}",
        c.commands
    );
    assert!(!c.loses_data(), "under 100: y confirms");
    let sent = key(&mut s, Intent::Yes);
    assert_eq!(repair_of(&sent), (&Repair::Ack, 3));
}

#[test]
fn a_hundred_marks_or_more_need_the_streams_name() {
    let mut s = on_pending();
    let entries: Vec<PendingEntry> = (0..120)
        .map(|i| pending(90_000 - i, "w3", 40_000, 1))
        .collect();
    on_marked(&mut s, "workers", entries, true);
    key(&mut s, Intent::DeadLetter);
    let Mode::Confirm(c) = &s.view.mode else {
        panic!("{:?}", s.view.mode)
    };
    assert!(c.loses_data() && c.typed_why.starts_with("100 entries or more"));
    assert!(
        c.commands
            .iter()
            .any(|l| l.starts_with("XADD tasks:dead * original_id"))
    );
    assert!(key(&mut s, Intent::Yes).is_empty(), "y is not enough");
    typed(&mut s, "tasks");
    let sent = key(&mut s, Intent::Submit);
    let (repair, n) = repair_of(&sent);
    assert!(matches!(repair, Repair::DeadLetter { .. }) && n == 120);
}

#[test]
fn claim_on_marks_asks_whom_then_expects_the_move() {
    let mut s = on_pending();
    key(&mut s, Intent::Mark);
    key(&mut s, Intent::Claim);
    assert!(matches!(
        s.view.mode,
        Mode::Input {
            prompt: crate::tui::state::Prompt::ClaimMarkedTo { .. },
            ..
        }
    ));
    let Mode::Input { text, .. } = &mut s.view.mode else {
        unreachable!()
    };
    text.clear();
    typed(&mut s, "rescuer");
    key(&mut s, Intent::Submit);
    let sent = key(&mut s, Intent::Yes);
    let (repair, n) = repair_of(&sent);
    assert_eq!(n, 1);
    assert!(matches!(repair, Repair::Claim { to, .. } if to == "rescuer"));
    assert_eq!(
        s.own_moves.len(),
        1,
        "its move is not reported as a reclaim"
    );
}

#[test]
fn requeue_acts_on_the_selected_entry_without_marks_and_esc_clears_marks() {
    let mut s = on_pending();
    key(&mut s, Intent::Requeue);
    let Mode::Confirm(c) = &s.view.mode else {
        panic!("{:?}", s.view.mode)
    };
    assert_eq!(c.title, "Requeue 1 entry");
    assert_eq!(c.commands[0], "MULTI");
    assert!(
        c.commands[1].starts_with("XADD tasks * <the fields of"),
        "{:?}",
        c.commands
    );
    let sent = key(&mut s, Intent::Yes);
    assert_eq!(repair_of(&sent), (&Repair::Requeue, 1));
    key(&mut s, Intent::Mark);
    key(&mut s, Intent::Close);
    assert!(s.marked().is_empty());
    assert_eq!(status(&s), "marks cleared");
}

#[test]
fn marking_is_refused_in_a_read_only_watch() {
    let mut s = on_pending();
    s.access = crate::tui::access::Access::Watch;
    assert!(key(&mut s, Intent::MarkAll).is_empty());
    assert!(status(&s).contains("--allow-writes"), "{}", status(&s));
}
