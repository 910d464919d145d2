//! The keymap as plain functions: key events in, actions out.

use super::*;
use crate::tui::access::Access;
use crate::tui::hints::{footer, help, hint_keys, needs};
use crate::tui::state::Screen;

fn press(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, modifiers)
}

fn key(mode: &Mode, c: char) -> Option<Action> {
    lookup(
        mode,
        Screen::Stream,
        &press(KeyCode::Char(c), KeyModifiers::NONE),
    )
}

fn intent(a: Option<Action>) -> Option<Intent> {
    match a {
        Some(Action::Key(i)) => Some(i),
        _ => None,
    }
}

#[test]
fn issue_keys_map_to_their_intents() {
    let n = Mode::Normal;
    for (c, want) in [
        ('p', Intent::EnqueueOne),
        ('r', Intent::ToggleProduction),
        ('+', Intent::RateUp),
        ('-', Intent::RateDown),
        ('w', Intent::Spawn),
        ('x', Intent::Kill),
        ('s', Intent::Stop),
        ('f', Intent::CycleMode),
        ('t', Intent::Trim),
        ('a', Intent::Ack),
        ('c', Intent::Claim),
        ('d', Intent::DeadLetter),
        ('j', Intent::Down),
        ('k', Intent::Up),
        ('/', Intent::Filter),
        ('?', Intent::Help),
        ('q', Intent::Quit),
    ] {
        assert_eq!(intent(key(&n, c)), Some(want), "{c}");
    }
    // Terminals send 'P' with or without the Shift modifier.
    let shifted = press(KeyCode::Char('P'), KeyModifiers::SHIFT);
    assert_eq!(
        intent(lookup(&n, Screen::Stream, &shifted)),
        Some(Intent::EnqueueBurst)
    );
    let back = press(KeyCode::BackTab, KeyModifiers::SHIFT);
    assert_eq!(
        intent(lookup(&n, Screen::Stream, &back)),
        Some(Intent::FocusPrev)
    );
}

#[test]
fn ctrl_c_quits_in_every_mode_but_plain_c_claims() {
    let ctrl_c = press(KeyCode::Char('c'), KeyModifiers::CONTROL);
    let input = Mode::Input {
        prompt: crate::tui::state::Prompt::Filter,
        text: String::new(),
    };
    for mode in [Mode::Normal, Mode::Help, input] {
        assert_eq!(
            intent(lookup(&mode, Screen::Stream, &ctrl_c)),
            Some(Intent::Quit)
        );
    }
    assert_eq!(intent(key(&Mode::Normal, 'c')), Some(Intent::Claim));
}

#[test]
fn prompts_type_characters_that_are_keys_elsewhere() {
    let input = Mode::Input {
        prompt: crate::tui::state::Prompt::Trim,
        text: String::new(),
    };
    assert!(matches!(key(&input, 'q'), Some(Action::Char('q'))));
    assert!(matches!(key(&input, '5'), Some(Action::Char('5'))));
    let esc = press(KeyCode::Esc, KeyModifiers::NONE);
    assert_eq!(
        intent(lookup(&input, Screen::Stream, &esc)),
        Some(Intent::Close)
    );
    let release = KeyEvent {
        kind: KeyEventKind::Release,
        ..press(KeyCode::Char('p'), KeyModifiers::NONE)
    };
    assert!(lookup(&Mode::Normal, Screen::Stream, &release).is_none());
}

#[test]
fn help_is_generated_from_the_table() {
    let lines = help(Scope::Normal);
    assert!(
        lines
            .iter()
            .any(|h| h.keys == "x" && h.what.contains("crash"))
    );
    assert!(lines.iter().any(|h| h.keys == "Ctrl-c"));
    assert!(lines.iter().any(|h| h.keys == "j/↓"));
    assert_eq!(
        lines.len(),
        BINDINGS
            .iter()
            .filter(|b| matches!(b.scope, Scope::Normal | Scope::Any))
            .count()
    );
}

#[test]
fn confirm_needs_y_or_enter() {
    let m = Mode::Confirm(crate::tui::confirm::Confirmation::plain(
        "Ack",
        Vec::new(),
        Vec::new(),
        crate::supervisor::EngineCommand::SpawnWorker,
    ));
    assert_eq!(intent(key(&m, 'y')), Some(Intent::Yes));
    assert_eq!(intent(key(&m, 'n')), Some(Intent::No));
    assert_eq!(key(&m, 'x').map(|_| ()), None);
}

#[test]
fn keys_that_write_or_drive_the_lab_say_so() {
    for intent in [Intent::Trim, Intent::Ack, Intent::Claim, Intent::DeadLetter] {
        assert_eq!(needs(intent), Needs::Writes, "{intent:?}");
    }
    for intent in [
        Intent::EnqueueOne,
        Intent::EnqueueBurst,
        Intent::ToggleProduction,
        Intent::RateUp,
        Intent::RateDown,
        Intent::Spawn,
        Intent::Kill,
        Intent::Stop,
        Intent::CycleMode,
    ] {
        assert_eq!(needs(intent), Needs::Lab, "{intent:?}");
    }
    for intent in [Intent::View, Intent::Filter, Intent::Help, Intent::Quit] {
        assert_eq!(needs(intent), Needs::Nothing, "{intent:?}");
    }
    // One intent, one requirement, whichever key or mode sends it.
    for b in BINDINGS {
        assert_eq!(b.needs, needs(b.intent), "{:?}", b.intent);
    }
}

#[test]
fn footer_hints_name_keys_from_the_table() {
    assert_eq!(
        hint_keys(&[Intent::EnqueueOne, Intent::EnqueueBurst], Scope::Normal),
        "p/P"
    );
    // A mode's own key before the global one.
    assert_eq!(hint_keys(&[Intent::Quit], Scope::Normal), "q");
    assert_eq!(hint_keys(&[Intent::Quit], Scope::Input), "Ctrl-c");
    for access in [Access::Lab, Access::Watch, Access::WatchWrites] {
        for (intents, _) in footer(access, Screen::Stream) {
            assert!(!hint_keys(intents, Scope::Normal).is_empty(), "{intents:?}");
        }
    }
}

#[test]
fn the_overview_has_its_own_keys_and_help() {
    let n = Mode::Normal;
    let on = |c: char| {
        intent(lookup(
            &n,
            Screen::Overview,
            &press(KeyCode::Char(c), KeyModifiers::NONE),
        ))
    };
    assert_eq!(on('o'), Some(Intent::SortNext));
    assert_eq!(on('O'), Some(Intent::SortPrev));
    assert_eq!(on('/'), Some(Intent::Filter));
    assert_eq!(on('q'), Some(Intent::Quit));
    // Lab keys mean nothing here.
    assert_eq!(on('w'), None);
    assert_eq!(on('x'), None);
    let enter = press(KeyCode::Enter, KeyModifiers::NONE);
    assert_eq!(
        intent(lookup(&n, Screen::Overview, &enter)),
        Some(Intent::View)
    );
    let lines = help(Scope::Overview);
    assert!(
        lines
            .iter()
            .any(|h| h.keys == "o" && h.what.contains("sort"))
    );
    assert!(
        lines.iter().all(|h| h.needs == Needs::Nothing),
        "the overview only reads"
    );
}
