//! The header's health span and the server overlay, drawn into ratatui's
//! TestBackend and compared with insta snapshots.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::monitor::advice::{Health, advise};
use crate::redis::memory::MemoryState;
use crate::redis::server::{Identity, info_fields};
use crate::redis::{ServerInfo, ServerMode, ServerName, Version};
use crate::tui::fixture;
use crate::tui::panes;
use crate::tui::state::{Mode, State};

const RISKY: &str = "used_memory:3250000\r\nmaxmemory:3145728\r\nmaxmemory_policy:noeviction\r\naof_enabled:0\r\nrdb_last_bgsave_time_sec:-1\r\nrdb_changes_since_last_save:15481\r\nuptime_in_seconds:60\r\nrole:master\r\nconnected_slaves:0\r\n";

fn health(info: &str) -> Health {
    let fields = info_fields(info);
    Health {
        memory: MemoryState::from_fields(&fields),
        advice: advise(&fields),
    }
}

fn draw(
    width: u16,
    height: u16,
    state: &State,
    pane: fn(&mut ratatui::Frame, ratatui::layout::Rect, &State),
) -> TestBackend {
    let mut t = Terminal::new(TestBackend::new(width, height)).unwrap();
    t.draw(|f| pane(f, f.area(), state)).unwrap();
    t.backend().clone()
}

#[test]
fn header_says_out_of_memory() {
    let mut s = fixture::state();
    s.health = Some(health(RISKY));
    let screen = draw(160, 3, &s, panes::header::render);
    assert!(format!("{screen:?}").contains("OUT OF MEMORY"));
    insta::assert_snapshot!(screen);
}

#[test]
fn header_counts_warnings_and_names_the_key() {
    let mut s = fixture::state();
    let lru = RISKY
        .replace(
            "maxmemory_policy:noeviction",
            "maxmemory_policy:allkeys-lru",
        )
        .replace("used_memory:3250000", "used_memory:1000000");
    s.health = Some(health(&lru));
    insta::assert_snapshot!(draw(160, 3, &s, panes::header::render));
}

#[test]
fn server_overlay_lists_what_is_missing_and_the_advice() {
    let mut s = fixture::state();
    s.server = Some(ServerInfo::derive(
        Identity {
            name: ServerName::Redis,
            version: Version::new(6, 2, 14),
            mode: ServerMode::Standalone,
        },
        None,
    ));
    s.health = Some(health(RISKY));
    s.view.mode = Mode::Server;
    insta::assert_snapshot!(draw(110, 30, &s, panes::overlay::render));
}

/// A poll the ACL refuses is no lost connection: the header says refused,
/// with the rule to grant, however many polls have failed.
#[test]
fn header_says_refused_when_retrying_cannot_help() {
    let mut s = fixture::state();
    let refused = crate::redis::RedisFailure::Auth(
        "the user needs +cluster|slots: CLUSTER SLOTS is refused".into(),
    );
    s.link = Some(crate::monitor::LinkState::failed(&refused, 9));
    let screen = format!("{:?}", draw(200, 3, &s, panes::header::render));
    assert!(
        screen.contains("● refused: the user needs +cluster|slots"),
        "{screen}"
    );
    assert!(!screen.contains("lost") && !screen.contains("reconnecting"));
}
