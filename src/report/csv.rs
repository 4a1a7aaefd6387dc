//! results.csv: one row per run, one column per parameter or metric; and
//! the CSV table every CSV output is written with.

use std::fmt::Display;

use anyhow::Result;

use super::{Export, Summary};

pub struct Csv;

impl Export for Csv {
    fn file_name(&self) -> &'static str {
        "results.csv"
    }

    fn render(&self, summary: &Summary) -> Result<Vec<u8>> {
        let mut out = Table::new(&summary.columns)?;
        for row in &summary.rows {
            out.row(row)?;
        }
        out.finish()
    }
}

/// A CSV file built in memory: a header, then rows of cells as they print.
pub struct Table(::csv::Writer<Vec<u8>>);

impl Table {
    pub fn new(header: impl IntoIterator<Item = impl AsRef<[u8]>>) -> Result<Table> {
        let mut out = ::csv::Writer::from_writer(Vec::new());
        out.write_record(header)?;
        Ok(Table(out))
    }

    pub fn row(&mut self, cells: impl IntoIterator<Item = impl Display>) -> Result<()> {
        Ok(self
            .0
            .write_record(cells.into_iter().map(|c| c.to_string()))?)
    }

    /// The file's bytes.
    pub fn finish(self) -> Result<Vec<u8>> {
        Ok(self.0.into_inner()?)
    }
}
