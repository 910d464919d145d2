//! How long one dashboard frame takes to render, measured without a
//! terminal: the fixture state (a busy lab) drawn into ratatui's
//! TestBackend over and over. Terminal output is not included; ratatui
//! only writes the cells that changed, which a TestBackend skips.
//!
//!     cargo run --release --example frame_time

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use streamlab::tui::{fixture, ui};

fn main() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut state = fixture::state();
        state.view.size = (w, h);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        let mut times: Vec<Duration> = (0..2000)
            .map(|i| {
                // Move the clock so every frame has something new to draw.
                state.now_ms = fixture::NOW + i;
                let started = Instant::now();
                terminal
                    .draw(|f| ui::render(f, &state))
                    .expect("draw to a test backend");
                started.elapsed()
            })
            .collect();
        times.sort();
        let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).unwrap_or(1);
        let p99 = times[times.len() * 99 / 100];
        println!(
            "{w}x{h}: mean {mean:?}, p99 {p99:?} per frame ({} frames)",
            times.len()
        );
    }
}
