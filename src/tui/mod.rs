//! The live dashboard (under construction in this commit).

use crate::cli::{DashboardArgs, GlobalArgs};
use crate::failure::Failure;

pub async fn run(_global: &GlobalArgs, _args: &DashboardArgs) -> Result<(), Failure> {
    Err(Failure::usage(
        "the dashboard is not built yet: use a subcommand (see --help)",
    ))
}
