//! Embedded default policy (in progress).
