//! One module per command: its arguments and what it does.

pub mod analyze;
pub mod catalog;
pub mod common;
pub mod eval;
pub mod eval_photos;
pub mod recommend;
pub mod serve;
pub mod train;
