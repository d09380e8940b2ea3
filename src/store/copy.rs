//! `steward store copy`: an SQLite database into an empty PostgreSQL one, the
//! path a group takes when it outgrows the file. Every table is copied row by
//! row as stored (events with their own hashes, not re-chained), inside one
//! PostgreSQL write transaction; before it commits, each table is read back
//! in key order and its row count and SHA-256 over the rows compared with the
//! source's. Any difference, any error, and the transaction rolls back:
//! the target is left as it was (empty), and the copy can simply be run again.
//! The source is read in one snapshot, so writers to it meanwhile do not tear
//! the copy.

use rusqlite::types::ValueRef;

use super::error::Ctx;
use super::{Conn, Store, StoreError};

/// How a column is stored on PostgreSQL (SQLite's STRICT types map onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    /// `BIGINT`.
    Int8,
    /// `INTEGER` (idempotency.status).
    Int4,
    Bytes,
}

/// One value, the same whichever database it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

pub(super) struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind)],
    /// The primary key, for reading both sides in the same order (text keys
    /// are byte-ordered on both: `COLLATE "C"` on PostgreSQL).
    pub key: &'static str,
    /// Rows the target already made for itself: the ticket sequence's row
    /// (made by the schema) and outbox rows (made by the trigger on events).
    pub upsert: Option<&'static str>,
}

use Kind::{Bytes, Int4, Int8, Text};

/// Every table of the schema, in an order that satisfies the trigger: events
/// before the outbox they fill. `steward_schema` is the target's own.
pub(super) const TABLES: &[Table] = &[
    Table {
        name: "policies",
        columns: &[
            ("fingerprint", Text),
            ("canonical", Text),
            ("source", Text),
            ("stored_at", Text),
        ],
        key: "fingerprint",
        upsert: None,
    },
    Table {
        name: "blobs",
        columns: &[("sha256", Text), ("bytes", Bytes)],
        key: "sha256",
        upsert: None,
    },
    Table {
        name: "meta",
        columns: &[("key", Text), ("value", Text)],
        key: "key",
        upsert: None,
    },
    Table {
        name: "events",
        columns: &[
            ("seq", Int8),
            ("ticket", Text),
            ("at", Text),
            ("kind", Text),
            ("payload", Text),
            ("fingerprint", Text),
            ("rule", Text),
            ("prev_hash", Text),
            ("hash", Text),
        ],
        key: "seq",
        upsert: None,
    },
    Table {
        name: "sequences",
        columns: &[("name", Text), ("last", Int8)],
        key: "name",
        upsert: Some("ON CONFLICT (name) DO UPDATE SET last = EXCLUDED.last"),
    },
    Table {
        name: "tickets",
        columns: &[
            ("id", Text),
            ("estate", Text),
            ("status", Text),
            ("fingerprint", Text),
            ("opened_at", Text),
            ("updated_at", Text),
            ("state", Text),
        ],
        key: "id",
        upsert: None,
    },
    Table {
        name: "timers",
        columns: &[
            ("ticket", Text),
            ("key", Text),
            ("kind", Text),
            ("due_at", Text),
            ("event", Text),
            ("estate", Text),
        ],
        key: "ticket, key",
        upsert: None,
    },
    Table {
        name: "tokens",
        columns: &[
            ("id", Text),
            ("name", Text),
            ("role", Text),
            ("estates", Text),
            ("sha256", Text),
            ("created_at", Text),
            ("revoked_at", Text),
        ],
        key: "id",
        upsert: None,
    },
    Table {
        name: "idempotency",
        columns: &[
            ("actor", Text),
            ("key", Text),
            ("request", Text),
            ("status", Int4),
            ("body", Text),
            ("at", Text),
        ],
        key: "actor, key",
        upsert: None,
    },
    Table {
        name: "outbox",
        columns: &[
            ("seq", Int8),
            ("recipient", Text),
            ("ticket", Text),
            ("kind", Text),
            ("at", Text),
            ("routed_at", Text),
        ],
        key: "seq, recipient",
        upsert: Some("ON CONFLICT (seq, recipient) DO UPDATE SET routed_at = EXCLUDED.routed_at"),
    },
    Table {
        name: "deliveries",
        columns: &[
            ("seq", Int8),
            ("recipient", Text),
            ("channel", Text),
            ("state", Text),
            ("attempts", Int8),
            ("next_at", Text),
            ("last_error", Text),
            ("delivered_at", Text),
            ("claimed_by", Text),
            ("lease_until", Text),
        ],
        key: "seq, recipient, channel",
        upsert: None,
    },
];

impl Table {
    pub(super) fn select(&self) -> String {
        let cols: Vec<&str> = self.columns.iter().map(|(c, _)| *c).collect();
        format!(
            "SELECT {} FROM {} ORDER BY {}",
            cols.join(", "),
            self.name,
            self.key
        )
    }

    /// Rows per INSERT: many per round trip, within PostgreSQL's 65,535 parameters.
    pub(super) fn chunk(&self) -> usize {
        (30_000 / self.columns.len()).min(1_000)
    }
}

/// What was copied of one table, and its digest (the same on both sides).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCopy {
    pub table: &'static str,
    pub rows: u64,
    /// SHA-256 over every row in key order, each value tagged by type.
    pub sha256: String,
}

/// Count and digest of a table's rows, fed one row at a time.
pub(super) struct Tally {
    rows: u64,
    hash: crate::digest::Hasher,
}

impl Tally {
    pub(super) fn new() -> Tally {
        Tally {
            rows: 0,
            hash: crate::digest::Hasher::default(),
        }
    }

    pub(super) fn add(&mut self, row: &[Cell]) {
        self.rows += 1;
        for c in row {
            match c {
                Cell::Null => self.hash.update(&[0]),
                Cell::Int(i) => {
                    self.hash.update(&[1]);
                    self.hash.update(&i.to_le_bytes());
                }
                Cell::Text(t) => {
                    self.hash.update(&[2]);
                    self.hash.update(&(t.len() as u64).to_le_bytes());
                    self.hash.update(t.as_bytes());
                }
                Cell::Bytes(b) => {
                    self.hash.update(&[3]);
                    self.hash.update(&(b.len() as u64).to_le_bytes());
                    self.hash.update(b);
                }
            }
        }
    }

    pub(super) fn finish(self, table: &'static str) -> TableCopy {
        TableCopy {
            table,
            rows: self.rows,
            sha256: self.hash.finish_hex(),
        }
    }
}

impl Store {
    /// Copies this SQLite database into `target`, an empty PostgreSQL
    /// database, in one transaction, and returns what each table holds on
    /// both sides. Refuses a non-empty target; on any error or difference
    /// nothing is written.
    pub fn copy_to(&self, target: &mut Store) -> Result<Vec<TableCopy>, StoreError> {
        let Conn::Sqlite(source) = &self.conn else {
            return Err(StoreError::Invalid(format!(
                "`store copy` copies from an SQLite file; `{}` is a PostgreSQL database",
                self.name
            )));
        };
        if !matches!(target.conn, Conn::Pg(_)) {
            return Err(StoreError::Invalid(format!(
                "`store copy` copies into a PostgreSQL database (a postgres:// URL); `{}` is an SQLite file",
                target.name
            )));
        }
        let from = self.name.clone();
        let snapshot = source.unchecked_transaction().ctx(&from)?;
        target.write(|tx| {
            let pg = tx
                .pg_mut()
                .ok_or_else(|| StoreError::Invalid("the target is not PostgreSQL".into()))?;
            pg.refuse_unless_empty()?;
            let mut out = Vec::new();
            for table in TABLES {
                let copied = copy_table(&snapshot, &from, table, pg)?;
                let back = pg.tally(table)?;
                if back != copied {
                    return Err(StoreError::Invalid(format!(
                        "the copy of table `{}` differs from `{from}` ({} rows, sha256 {} read; {} rows, sha256 {} written): nothing was written",
                        table.name, copied.rows, copied.sha256, back.rows, back.sha256
                    )));
                }
                out.push(copied);
            }
            Ok(out)
        })
    }
}

/// Streams `table` from the snapshot into the target a chunk at a time.
fn copy_table(
    source: &rusqlite::Transaction<'_>,
    from: &str,
    table: &Table,
    pg: &mut super::pg::Tx<'_>,
) -> Result<TableCopy, StoreError> {
    let mut stmt = source.prepare(&table.select()).ctx(from)?;
    let mut rows = stmt.query([]).ctx(from)?;
    let mut tally = Tally::new();
    let mut chunk: Vec<Vec<Cell>> = Vec::with_capacity(table.chunk());
    while let Some(r) = rows.next().ctx(from)? {
        let mut row = Vec::with_capacity(table.columns.len());
        for i in 0..table.columns.len() {
            row.push(match r.get_ref(i).ctx(from)? {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(n) => Cell::Int(n),
                ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(t) => Cell::Text(t.to_owned()),
                    Err(_) => {
                        return Err(StoreError::Corrupt {
                            path: from.to_owned(),
                            detail: format!("text that is not UTF-8 in table `{}`", table.name),
                        });
                    }
                },
                ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                ValueRef::Real(_) => {
                    return Err(StoreError::Corrupt {
                        path: from.to_owned(),
                        detail: format!("a real number in table `{}`", table.name),
                    });
                }
            });
        }
        tally.add(&row);
        chunk.push(row);
        if chunk.len() == table.chunk() {
            pg.insert_rows(table, &chunk)?;
            chunk.clear();
        }
    }
    if !chunk.is_empty() {
        pg.insert_rows(table, &chunk)?;
    }
    Ok(tally.finish(table.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(rows: &[&[Cell]]) -> String {
        let mut t = Tally::new();
        for r in rows {
            t.add(r);
        }
        t.finish("t").sha256
    }

    #[test]
    fn a_digest_tells_values_apart_that_print_alike() {
        let text = |s: &str| Cell::Text(s.to_owned());
        let all = [
            digest(&[&[Cell::Null]]),
            digest(&[&[text("")]]),
            digest(&[&[Cell::Int(1)]]),
            digest(&[&[text("1")]]),
            digest(&[&[Cell::Bytes(b"1".to_vec())]]),
            // Where one value ends and the next begins.
            digest(&[&[text("ab"), text("c")]]),
            digest(&[&[text("a"), text("bc")]]),
            digest(&[&[text("a")], &[text("b")]]),
            digest(&[&[text("b")], &[text("a")]]),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(digest(&[&[Cell::Int(7)]]), digest(&[&[Cell::Int(7)]]));
    }

    #[test]
    fn every_table_of_the_schema_is_copied() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for m in super::super::MIGRATIONS {
            conn.execute_batch(m).unwrap();
        }
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        let tables: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let mut copied: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        copied.sort_unstable();
        assert_eq!(tables, copied);
        // And every column of each (the generated ones are the target's own).
        for t in TABLES {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT name, hidden FROM pragma_table_xinfo('{}')",
                    t.name
                ))
                .unwrap();
            let columns: Vec<String> = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .unwrap()
                .filter_map(|c| c.ok().filter(|(_, hidden)| *hidden == 0).map(|(n, _)| n))
                .collect();
            let ours: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
            assert_eq!(columns, ours, "{}", t.name);
        }
    }
}
