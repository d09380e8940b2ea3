//! What can go wrong making a report. Every variant is the user's input or the
//! database, never a bug, so the CLI maps them all to exit code 2.

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "no policy has been applied to this database, so there is no timezone to cut periods in: run `steward policy apply PATH`"
    )]
    NoPolicy,
    #[error("stored policy `{0}` is unreadable: {1}")]
    BadPolicy(String, String),
    #[error("the range is reversed: --from `{from}` is after --to `{to}`")]
    Reversed { from: String, to: String },
    #[error("bad date `{0}`: expected YYYY-MM-DD")]
    BadDate(String),
    #[error("bad quarter `{0}`: expected YYYYQn with n from 1 to 4, e.g. 2026Q3")]
    BadQuarter(String),
    #[error("date out of range")]
    OutOfRange,
    #[error("unknown estate `{estate}`: the log has tickets from {known}")]
    UnknownEstate { estate: String, known: String },
    #[error("{0}")]
    Households(String),
}
