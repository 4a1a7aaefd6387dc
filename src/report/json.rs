//! results.json: the rows of results.csv, with the experiment echoed and the
//! edgesim version, for programs; every configuration's means, changes and
//! grades, and the recommendations; with a service, the breaking points too.

use anyhow::Result;
use serde_json::{Map, Value, json};

use super::{Cell, Export, Summary};

pub struct Json;

impl Export for Json {
    fn file_name(&self) -> &'static str {
        "results.json"
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let exp = summary.experiment;
        let runs: Vec<Value> = summary
            .rows
            .iter()
            .map(|row| {
                let fields: Map<String, Value> = summary
                    .columns
                    .iter()
                    .zip(row)
                    .map(|(name, cell)| (name.clone(), cell_value(cell)))
                    .collect();
                Value::Object(fields)
            })
            .collect();
        let mut doc = json!({
            "edgesim_version": env!("CARGO_PKG_VERSION"),
            "experiment": {
                "name": exp.name,
                "seed": exp.meta.seed,
                "replications": exp.meta.replications,
                // Where it was read from, relative to the output directory
                // (`edgesim run` sets it so): `edgesim report` parses
                // `source` again as if from there (relative trace paths
                // resolve against it).
                "path": exp.path.display().to_string(),
                "source": exp.source,
            },
            "runs": runs,
        });
        doc["configurations"] = super::decide::json::configurations(summary);
        doc["recommendations"] = super::decide::json::recommendations(summary);
        // Only with a service: error ratios exist only there, and files of
        // cache or limiter experiments stay as they were.
        if !exp.services.is_empty() {
            let levels = super::levels::levels(summary.results);
            doc["breaking_points"] = super::breaking::json(exp, &levels);
        }
        // Only when a trace recorded its real cache's status.
        if let Some(observed) = super::observed::json(summary) {
            doc["observed"] = observed;
        }
        let mut bytes = serde_json::to_vec_pretty(&doc)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

fn cell_value(cell: &Cell) -> Value {
    match cell {
        Cell::Text(s) => Value::from(s.as_str()),
        Cell::Int(n) => Value::from(*n),
        Cell::Real(x) => Value::from(*x),
        Cell::Empty => Value::Null,
    }
}
