//! The PostgreSQL side of `store copy` (`../copy.rs`): the emptiness check,
//! multi-row inserts of copied rows, and reading a table back for its digest.

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use super::tx::Tx;
use crate::store::StoreError;
use crate::store::copy::{Cell, Kind, TABLES, Table, TableCopy, Tally};

impl Tx<'_> {
    /// Refuses a database that holds anything of steward's beyond the schema
    /// (the ticket sequence's row at 0): a copy never merges two histories.
    pub(in crate::store) fn refuse_unless_empty(&self) -> Result<(), StoreError> {
        let mut held = Vec::new();
        for t in TABLES {
            let sql = if t.name == "sequences" {
                "SELECT count(*) FROM sequences WHERE last <> 0".to_owned()
            } else {
                format!("SELECT count(*) FROM {}", t.name)
            };
            let n: i64 = match self.row(&sql, &[])? {
                Some(r) => self.get(&r, 0)?,
                None => 0,
            };
            if n > 0 {
                held.push(format!("{}: {n}", t.name));
            }
        }
        if held.is_empty() {
            return Ok(());
        }
        Err(StoreError::Invalid(format!(
            "database `{}` is not empty ({}): `store copy` copies into an empty database only; nothing was written",
            self.name,
            held.join(", ")
        )))
    }

    pub(in crate::store) fn insert_rows(
        &mut self,
        table: &Table,
        rows: &[Vec<Cell>],
    ) -> Result<(), StoreError> {
        let width = table.columns.len();
        let mut values = Vec::with_capacity(rows.len());
        for r in 0..rows.len() {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            values.push(format!("({})", marks.join(", ")));
        }
        let cols: Vec<&str> = table.columns.iter().map(|(c, _)| *c).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES {} {}",
            table.name,
            cols.join(", "),
            values.join(", "),
            table.upsert.unwrap_or("")
        );
        let mut params: Vec<Box<dyn ToSql + Sync>> = Vec::with_capacity(rows.len() * width);
        for row in rows {
            for (cell, (column, kind)) in row.iter().zip(table.columns) {
                params.push(self.param(table.name, column, *kind, cell)?);
            }
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref()).collect();
        self.exec(&sql, &refs)?;
        Ok(())
    }

    fn param(
        &self,
        table: &str,
        column: &str,
        kind: Kind,
        cell: &Cell,
    ) -> Result<Box<dyn ToSql + Sync>, StoreError> {
        let mismatch = || StoreError::Corrupt {
            path: self.name.to_owned(),
            detail: format!("`{table}.{column}` holds a value of the wrong type"),
        };
        Ok(match (kind, cell) {
            (Kind::Text, Cell::Null) => Box::new(None::<String>),
            (Kind::Int8, Cell::Null) => Box::new(None::<i64>),
            (Kind::Int4, Cell::Null) => Box::new(None::<i32>),
            (Kind::Bytes, Cell::Null) => Box::new(None::<Vec<u8>>),
            (Kind::Text, Cell::Text(t)) => Box::new(t.clone()),
            (Kind::Int8, Cell::Int(n)) => Box::new(*n),
            (Kind::Int4, Cell::Int(n)) => Box::new(i32::try_from(*n).map_err(|_| mismatch())?),
            (Kind::Bytes, Cell::Bytes(b)) => Box::new(b.clone()),
            _ => return Err(mismatch()),
        })
    }

    /// Count and digest of `table` as this transaction sees it.
    pub(in crate::store) fn tally(&self, table: &'static Table) -> Result<TableCopy, StoreError> {
        let mut tally = Tally::new();
        self.stream(&table.select(), &[], |r: &Row| {
            let mut row = Vec::with_capacity(table.columns.len());
            for (i, (_, kind)) in table.columns.iter().enumerate() {
                row.push(self.cell(r, i, *kind)?);
            }
            tally.add(&row);
            Ok::<_, StoreError>(())
        })?;
        Ok(tally.finish(table.name))
    }

    fn cell(&self, r: &Row, i: usize, kind: Kind) -> Result<Cell, StoreError> {
        Ok(match kind {
            Kind::Text => self
                .get::<Option<String>>(r, i)?
                .map_or(Cell::Null, Cell::Text),
            Kind::Int8 => self.get::<Option<i64>>(r, i)?.map_or(Cell::Null, Cell::Int),
            Kind::Int4 => self
                .get::<Option<i32>>(r, i)?
                .map_or(Cell::Null, |n| Cell::Int(i64::from(n))),
            Kind::Bytes => self
                .get::<Option<Vec<u8>>>(r, i)?
                .map_or(Cell::Null, Cell::Bytes),
        })
    }
}
