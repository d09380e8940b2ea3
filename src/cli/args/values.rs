//! The fixed sets of values some flags take, as clap `ValueEnum`s so `--help` and the
//! completions list them: colour, report language, ticket status, kind, tier, sort.

use clap::ValueEnum;

use crate::store::TicketSort;

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorWhen {
    /// Colour when the output is a terminal and NO_COLOR is not set
    Auto,
    /// Colour even into a pipe or file
    Always,
    /// No colour
    Never,
}

/// The language of reports and their labels.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LangArg {
    /// English
    En,
    /// Simplified Chinese (简体中文)
    #[value(name = "zh-CN", alias = "zh")]
    ZhCn,
}

/// A ticket's status, as `ticket list --status` filters it.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusArg {
    /// Being handled (clocks may be running)
    Open,
    /// Work done, revisits pending
    Resolved,
    /// Closed after resolution and revisits
    Closed,
    /// Closed as an invalid complaint (D5)
    Invalid,
}

impl StatusArg {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusArg::Open => "open",
            StatusArg::Resolved => "resolved",
            StatusArg::Closed => "closed",
            StatusArg::Invalid => "invalid",
        }
    }
}

/// The kind of a ticket at intake (D1).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindArg {
    /// A question (咨询)
    Inquiry,
    /// A repair request (报修)
    Repair,
    /// A complaint (投诉)
    Complaint,
    /// A suggestion (建议)
    Suggestion,
}

impl KindArg {
    pub fn as_str(self) -> &'static str {
        match self {
            KindArg::Inquiry => "inquiry",
            KindArg::Repair => "repair",
            KindArg::Complaint => "complaint",
            KindArg::Suggestion => "suggestion",
        }
    }
}

/// Dispatch tier (E1).
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierArg {
    /// The front-line agent answers or resolves at once
    #[value(name = "L1")]
    L1,
    /// Dispatched to a department
    #[value(name = "L2")]
    L2,
    /// Several departments under a lead department (needs --lead)
    #[value(name = "L3")]
    L3,
}

impl TierArg {
    pub fn as_str(self) -> &'static str {
        match self {
            TierArg::L1 => "L1",
            TierArg::L2 => "L2",
            TierArg::L3 => "L3",
        }
    }
}

/// `ticket list --sort`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortArg {
    /// Latest opened first
    Newest,
    /// Earliest opened first
    Oldest,
    /// Most recently changed first
    Updated,
    /// Nearest running deadline first (tickets without one last)
    Deadline,
}

impl SortArg {
    pub fn to_store(self) -> TicketSort {
        match self {
            SortArg::Newest => TicketSort::Newest,
            SortArg::Oldest => TicketSort::Oldest,
            SortArg::Updated => TicketSort::Updated,
            SortArg::Deadline => TicketSort::Deadline,
        }
    }
}

/// The text encoding of a CSV register.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK / GB18030, as Excel saves CSV on Chinese Windows
    #[value(alias = "gb18030", alias = "gb2312")]
    Gbk,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gbk => "gbk",
        }
    }
}
