//! `edgesim policies`: the cache policies the registry knows, with each
//! parameter's default and range, printed from the same tables that check
//! them.

use anyhow::Result;

use edgesim::{cache, spec};

use super::emit;

pub fn run() -> Result<()> {
    emit(&format!(
        "Cache policies: write name or name(param=value, ...)\n\n{}",
        spec::listing(cache::POLICIES)
    ))
}
