//! Text for people and scripts, shared by the headless commands and the
//! dashboard: stdout that survives a closed pipe, how figures are written
//! (ages, counts, rates), engine events as lines, and the overview's cells.
//! It sits above `engine/` and `monitor/` (it words what they report) and
//! below `commands/` and `tui/`.

pub mod entries;
pub mod events;
pub mod fmt;
pub mod stdout;
pub mod stream_cells;
