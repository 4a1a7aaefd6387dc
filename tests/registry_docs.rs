//! Each registry, its listing command and its page agree: `edgesim policies`
//! and docs/policies.md name every registered policy, `edgesim limiters` and
//! docs/limiters.md every limiter algorithm, so an entry added without its
//! documentation fails here.

mod common;

use std::fs;
use std::path::Path;

use common::edgesim;

/// `edgesim SUBCOMMAND` lists each of `names` at the start of a line, and
/// the page `doc` (relative to the repository) names each as a whole word.
fn listed_and_documented(subcommand: &str, names: &[&str], doc: &str) {
    let out = edgesim().arg(subcommand).assert().success();
    let listing = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let page = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let part_of_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    for name in names {
        let listed = listing
            .lines()
            .any(|line| line.split_whitespace().next() == Some(name));
        assert!(
            listed,
            "`edgesim {subcommand}` does not list {name}:\n{listing}"
        );
        let named = page.match_indices(name).any(|(at, _)| {
            let before = page[..at].chars().next_back();
            let after = page[at + name.len()..].chars().next();
            !before.is_some_and(part_of_name) && !after.is_some_and(part_of_name)
        });
        assert!(named, "{doc} does not name {name}");
    }
}

#[test]
fn every_policy_is_listed_and_documented() {
    let names: Vec<&str> = edgesim::cache::POLICIES.iter().map(|p| p.name).collect();
    listed_and_documented("policies", &names, "docs/policies.md");
}

#[test]
fn every_limiter_algorithm_is_listed_and_documented() {
    let names: Vec<&str> = edgesim::limiter::ALGORITHMS
        .iter()
        .map(|a| a.name)
        .collect();
    listed_and_documented("limiters", &names, "docs/limiters.md");
}
