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
            ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run {
            file,
            out,
            threads,
            seed,
        } => commands::experiment::run(file, out, threads, seed),
        Command::Report { dir } => commands::report::run(dir),
        Command::Validate { file } => commands::experiment::validate(file),
        Command::Trace { command } => commands::trace::run(command),
        Command::Cache(args) => commands::cache::run(args),
        Command::Limit(args) => commands::limit::run(args),
    }
}
