//! The one error of model configuration: a message that says what is wrong
//! and what to write instead.
//!
//! Model code (units, workloads, caches, limiters, the service) returns
//! [`ConfigError`]; it knows nothing of files or flags. The experiment
//! parser adds the file, line and column ([`crate::experiment::ExperimentError`]),
//! trace readers their own place ([`crate::workload::trace::TraceError`]),
//! and the commands, with anyhow, the rest of the context.

/// A configuration mistake, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl From<String> for ConfigError {
    fn from(message: String) -> Self {
        ConfigError(message)
    }
}

impl From<&str> for ConfigError {
    fn from(message: &str) -> Self {
        ConfigError(message.to_string())
    }
}

/// For the places that add a message to their own: a file position, a
/// trace line.
impl From<ConfigError> for String {
    fn from(error: ConfigError) -> Self {
        error.0
    }
}
