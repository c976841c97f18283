//! One module per command: its arguments and what it does.

pub mod catalog;
pub mod eval;
pub mod recommend;
pub mod train;
