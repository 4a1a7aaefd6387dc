//! A registry, its listing command and its doc agree: every registered name
//! is printed by the command and described in the doc, so adding an entry
//! without documenting it fails here.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// Checks that `edgesim <command>` prints each of `names` at the start of a
/// line, and that the doc at `doc` (from the crate root) has a table row for
/// each, as `` | `name` | ``.
fn listed_and_documented(command: &str, names: &[&str], doc: &str) {
    let out = Command::cargo_bin("edgesim")
        .unwrap()
        .arg(command)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    let text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    for name in names {
        assert!(
            out.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "`edgesim {command}` does not list {name}:\n{out}"
        );
        assert!(
            text.contains(&format!("| `{name}` |")),
            "{doc} has no table row for {name}"
        );
    }
}

#[test]
fn every_policy_is_listed_and_documented() {
    let names: Vec<&str> = edgesim::cache::POLICIES.iter().map(|p| p.name).collect();
    listed_and_documented("policies", &names, "docs/policies.md");
}
