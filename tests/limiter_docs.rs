//! The limiter registry, its listing and its page agree: `edgesim limiters`
//! and docs/limiters.md name every registered algorithm.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// `edgesim SUBCOMMAND` lists each of `names` on a line of its own, and the
/// page `doc` (relative to the repository) names each as a whole word.
fn docs_and_listing_name_every_entry(subcommand: &str, names: &[&str], doc: &str) {
    let out = Command::cargo_bin("edgesim")
        .unwrap()
        .arg(subcommand)
        .assert()
        .success();
    let listing = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let page = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let part_of_name = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    for name in names {
        let listed = listing.lines().any(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with(char::is_whitespace))
        });
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
fn every_limiter_algorithm_is_listed_and_documented() {
    let names: Vec<&str> = edgesim::limiter::ALGORITHMS
        .iter()
        .map(|a| a.name)
        .collect();
    docs_and_listing_name_every_entry("limiters", &names, "docs/limiters.md");
}
