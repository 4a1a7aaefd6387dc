use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

mod cli;
mod commands;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            // A run stopped by a signal exits as a shell reports one
            // killed by it (130 for Ctrl-C).
            match e.downcast_ref::<edgesim::runner::Interrupted>() {
                Some(i) => ExitCode::from(i.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => commands::experiment::run(args),
        Command::Report { dir, force } => commands::report::run(dir, force),
        Command::Merge(args) => commands::merge::run(args),
        Command::Validate { file } => commands::experiment::validate(file),
        Command::Trace { command } => commands::trace::run(command),
        Command::Cache(args) => commands::cache::run(args),
        Command::Mrc(args) => commands::mrc::run(args),
        Command::Limit(args) => commands::limit::run(args),
        Command::Policies => commands::policies::run(),
        Command::Limiters => commands::limiters::run(),
    }
}
