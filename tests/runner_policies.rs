//! The runner end to end with the policy zoo: Belady gets next-access
//! positions (it would otherwise see none and evict blindly), and a bad
//! parameter is reported at its position in the experiment file.

use std::path::Path;

use edgesim::experiment::Experiment;
use edgesim::runner;

const EXPERIMENT: &str = r#"
[experiment]
name = "zoo"
seed = 7
replications = 1

[workload]
kind = "synthetic"
requests = 50_000
keys = 5_000
popularity = { dist = "zipf", alpha = 0.9 }
size = { dist = "fixed", size = "4KiB" }
rate = "1000/s"

[[cache]]
policy = ["lru", "s3fifo", "belady"]
capacity = 200
"#;

#[test]
fn belady_is_annotated_and_beats_online_policies() {
    let exp = Experiment::parse(Path::new("zoo.toml"), EXPERIMENT.to_string()).unwrap();
    let results = runner::run(&exp, Some(1)).unwrap();
    let hits = |name: &str| {
        results
            .iter()
            .find(|r| {
                exp.caches[r.run.cache.expect("a cache-only experiment")]
                    .spec
                    .policy
                    .name
                    == name
            })
            .unwrap()
            .stats
            .hits
    };
    assert!(
        hits("belady") > hits("s3fifo"),
        "{} vs {}",
        hits("belady"),
        hits("s3fifo")
    );
    assert!(hits("belady") > hits("lru"));
}

#[test]
fn a_bad_parameter_is_reported_at_its_position() {
    let text = EXPERIMENT.replace(r#""belady"]"#, r#""slru(segments=0)"]"#);
    let err = Experiment::parse(Path::new("zoo.toml"), text)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("segments=0") && err.contains("1 to 16"),
        "{err}"
    );
    assert!(err.contains("zoo.toml:16:28:"), "{err}");
}
