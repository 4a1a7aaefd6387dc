//! The subcommands that are more than a call into the library: each in its
//! own module, with its clap arguments beside the code that runs it.

mod access_log;
pub mod limit;
