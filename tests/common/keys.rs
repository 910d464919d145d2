//! Driving the dashboard in tmux through every key the keymap binds, on
//! the overview and on a stream, and checking each screen for trouble
//! (an error, a refusal, a lost link): what `tests/watch.rs` presses as a
//! read-only user.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::time::Duration;

use crossterm::event::KeyCode;
use streamlab::tui::access::Needs;
use streamlab::tui::keymap::{BINDINGS, Key, Scope, label};

use crate::tmux::Tmux;

const WAIT: Duration = Duration::from_secs(10);
pub const HELP: &str = "Keys (Esc closes)";

/// Words that would mean an error reached the screen.
pub const TROUBLE: [&str; 6] = [
    "NOPERM",
    "error",
    "failed",
    "reconnecting",
    "lost",
    "● refused",
];

/// A screen, checked for trouble.
pub fn clean(screen: String) -> String {
    for word in TROUBLE {
        assert!(!screen.contains(word), "'{word}' on screen:\n{screen}");
    }
    screen
}

/// Send one key as tmux names it.
pub fn press(t: &Tmux, key: Key) {
    let name = match key.code {
        KeyCode::Char(c) if key.ctrl => format!("C-{c}"),
        KeyCode::Char(c) => {
            t.run(&["send-keys", "-t", "main", "-l", &c.to_string()]);
            return;
        }
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Escape".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "BTab".into(),
        KeyCode::Up => "Up".into(),
        KeyCode::Down => "Down".into(),
        KeyCode::PageUp => "PPage".into(),
        KeyCode::PageDown => "NPage".into(),
        KeyCode::Backspace => "BSpace".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        other => panic!("no tmux name for {other:?}"),
    };
    t.keys(&name);
}

/// A round trip through the help overlay: every key sent before it has
/// been read and handled (and an Esc is never merged with the next key
/// into an Alt- chord).
pub fn settle(t: &Tmux) {
    t.keys("?");
    t.wait("the help opens", WAIT, |s| s.contains(HELP));
    t.keys("Escape");
    clean(t.wait("the help closes", WAIT, |s| !s.contains(HELP)));
}

/// What the status line starts with after pressing a refused key.
fn refusal_start(keys: &[Key], needs: Needs) -> String {
    let keys: Vec<String> = keys.iter().map(|k| label(*k)).collect();
    let why = match needs {
        Needs::Lab => "a watch runs no lab",
        _ => "this watch is read-only",
    };
    format!("{}: {why}", keys.join("/"))
}

/// `/`: type a filter (with a Backspace), accept it, clear it with Esc;
/// then open the prompt once more and cancel it with Esc.
fn filter_prompt(t: &Tmux) {
    t.keys("/");
    t.wait("the filter prompt", WAIT, |s| s.contains("Filter the PEL"));
    t.run(&["send-keys", "-t", "main", "-l", "nobody 1sx"]);
    press(
        t,
        Key {
            code: KeyCode::Backspace,
            ctrl: false,
        },
    );
    t.keys("Enter");
    clean(t.wait("the filter applied", WAIT, |s| {
        s.contains("consumer nobody")
    }));
    t.keys("Escape");
    clean(t.wait("the filter cleared", WAIT, |s| {
        s.contains("PEL filter cleared")
    }));
    t.keys("/");
    t.wait("the filter prompt", WAIT, |s| s.contains("Filter the PEL"));
    t.keys("Escape");
    t.wait("the prompt cancelled", WAIT, |s| {
        !s.contains("Filter the PEL")
    });
}

/// Enter on a consumer filters the PEL to it; Enter on an entry opens its
/// fields (read with XRANGE), closed by each of the entry view's keys.
fn view_keys(t: &Tmux) {
    t.keys("Enter");
    clean(t.wait("the PEL filtered to billing-1", WAIT, |s| {
        s.contains("consumer billing-1")
    }));
    for close in ["Escape", "Enter", "q"] {
        t.keys("Enter");
        clean(t.wait("an entry's fields", WAIT, |s| s.contains("payload")));
        t.keys(close);
        t.wait("the entry view closes", WAIT, |s| {
            !s.contains("(Esc closes)")
        });
    }
    t.keys("Escape");
    t.wait("the consumer filter cleared", WAIT, |s| {
        s.contains("PEL filter cleared")
    });
}

/// `e` opens the entries; every key of that screen (prompts answered and
/// cancelled), the entry view's keys, then Esc back to the stream.
fn entries_keys(t: &Tmux) {
    use streamlab::tui::action::Intent;
    t.keys("e");
    clean(t.wait("the entries", WAIT, |s| s.contains("Entries of")));
    for b in BINDINGS.iter().filter(|b| b.scope == Scope::Entries) {
        match b.intent {
            Intent::Quit | Intent::Help | Intent::Close => {}
            Intent::GoTo => {
                t.keys("g");
                t.wait("the go-to prompt", WAIT, |s| s.contains("Go to"));
                t.run(&["send-keys", "-t", "main", "-l", "15m"]);
                t.keys("Enter");
                clean(t.wait("gone to 15m ago", WAIT, |s| s.contains("at 15m")));
            }
            Intent::Filter => {
                t.keys("/");
                t.wait("the search prompt", WAIT, |s| {
                    s.contains("Search the entries")
                });
                t.run(&["send-keys", "-t", "main", "-l", "kind=none"]);
                t.keys("Enter");
                clean(t.wait("the search ends", WAIT, |s| {
                    s.contains("no match for kind=none")
                }));
            }
            Intent::View => {
                t.keys("End");
                t.keys("Enter");
                clean(t.wait("the entry view", WAIT, |s| {
                    s.contains("Entry ") && s.contains("bytes")
                }));
                for key in BINDINGS.iter().filter(|b| b.scope == Scope::Entry) {
                    if key.intent != Intent::Close {
                        key.keys.iter().for_each(|k| press(t, *k));
                    }
                }
                t.keys("Escape");
                t.wait("the entry view closes", WAIT, |s| !s.contains("Entry 1"));
            }
            _ => {
                for key in b.keys {
                    press(t, *key);
                }
            }
        }
        settle(t);
    }
    t.keys("Escape");
    clean(t.wait("back on the stream", WAIT, |s| {
        s.contains("e shows its entries")
    }));
}

/// Every key the keymap binds on the stream screen (and in the overlays it
/// opens), then every other printable character.
pub fn press_every_stream_key(t: &Tmux) {
    for b in BINDINGS.iter().filter(|b| b.scope == Scope::Normal) {
        use streamlab::tui::action::Intent;
        match b.intent {
            Intent::Quit => continue,
            Intent::Filter => filter_prompt(t),
            Intent::View => view_keys(t),
            Intent::Entries => entries_keys(t),
            // Covered by the help's own keys, the filter and the views.
            Intent::Help | Intent::Close => {}
            _ => {
                for key in b.keys {
                    press(t, *key);
                    if b.needs != Default::default() {
                        let start = refusal_start(b.keys, b.needs);
                        clean(t.wait(&format!("the refusal of {start}"), WAIT, |s| {
                            s.contains(&start)
                        }));
                    }
                    settle(t);
                }
            }
        }
    }
    for b in BINDINGS.iter().filter(|b| b.scope == Scope::Help) {
        for key in b.keys {
            t.keys("?");
            t.wait("the help opens", WAIT, |s| s.contains(HELP));
            press(t, *key);
            t.wait("the help closes", WAIT, |s| !s.contains(HELP));
        }
    }
    // `e` opens the entries screen, pressed above with its keys.
    let unbound: String = (' '..='~').filter(|c| !"q?/e".contains(*c)).collect();
    t.run(&["send-keys", "-t", "main", "-l", &unbound]);
    settle(t);
}

/// Every key of the overview that moves or sorts, then the filter prompt:
/// a glob that leaves `orders` alone, cleared with Esc, another glob; then
/// Enter opens `orders`.
pub fn press_every_overview_key(t: &Tmux) {
    use streamlab::tui::action::Intent;
    for b in BINDINGS.iter().filter(|b| b.scope == Scope::Overview) {
        if matches!(
            b.intent,
            Intent::Quit | Intent::Help | Intent::Close | Intent::Filter | Intent::View
        ) {
            continue;
        }
        for key in b.keys {
            press(t, *key);
            settle(t);
        }
    }
    for glob in ["ord*", "o?d[e]rs"] {
        t.keys("/");
        t.wait("the stream filter prompt", WAIT, |s| {
            s.contains("Filter streams")
        });
        t.run(&["send-keys", "-t", "main", "-l", glob]);
        t.keys("Enter");
        clean(t.wait("only orders listed", WAIT, |s| {
            s.contains("Streams matching") && s.contains("orders") && !s.contains("stream:000")
        }));
        if glob == "ord*" {
            t.keys("Escape");
            clean(t.wait("every stream again", WAIT, |s| s.contains("stream:000")));
        }
    }
    t.keys("Enter");
}
