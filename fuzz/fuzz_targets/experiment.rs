//! Experiment files: parsing, validation and sweep expansion must give a
//! value or an error with a place, never panic, on any UTF-8 text.
#![no_main]

use std::path::Path;

use edgesim::experiment::Experiment;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz/experiment.toml");
    let exp = match Experiment::parse(path, text.to_string()) {
        Ok(exp) => exp,
        Err(e) => {
            // Every error names the file and a place in it.
            assert_eq!(e.file, "fuzz/experiment.toml");
            assert!(e.line >= 1 && e.column >= 1, "{e}");
            return;
        }
    };
    let count = exp.run_count();
    let _ = exp.run_product();
    let _ = exp.swept_dims();
    if count <= 64 {
        let runs = exp.runs();
        assert_eq!(runs.len() as u64, count);
        for run in &runs {
            let _ = exp.config_values(run);
            let _ = exp.service(run);
            let _ = exp.run_seed(run);
            let _ = exp.service_seed(run);
        }
    }
});
