//! results.csv: one row per run, one column per parameter or metric.

use anyhow::Result;

use super::{Export, Summary};

pub struct Csv;

impl Export for Csv {
    fn file_name(&self) -> &'static str {
        "results.csv"
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let mut out = ::csv::Writer::from_writer(Vec::new());
        out.write_record(&summary.columns)?;
        for row in &summary.rows {
            out.write_record(row.iter().map(|c| c.to_string()))?;
        }
        Ok(out.into_inner()?)
    }
}
