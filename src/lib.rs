//! moodreel: reads the facial expression in a photo and recommends films that match or lift
//! the mood.
//!
//! This crate is the application: the command line, the commands, the web server and the
//! pipeline that joins vision to recommendations. The real work lives in the crates under
//! `crates/`.

pub mod cli;
pub mod commands;
pub mod exit;
pub mod pipeline;
pub mod web;
