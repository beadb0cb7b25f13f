//! quotasim: a discrete-event simulator of per-API QPS quotas.
//!
//! A scenario (accounts, sub-accounts, APIs, clients, the platform's limiter) is read and validated by
//! [`scenario`]; [`workload`] and [`quota`] hold the callers' and the platform's rules; [`engine`] plays them
//! against each other in simulated integer-nanosecond time; [`stats`] counts what happened; [`report`] turns
//! the counts into `summary.json`, CSV files, a terminal table and charts; [`sweep`] runs a scenario over a
//! grid of parameter values in parallel; [`validate`] checks the simulator against closed forms; [`advise`] searches
//! for the least QPS, the most threads and the cheapest purchase that meet targets; [`cli`] ties them
//! together.

pub mod advise;
pub mod bound;
pub mod cli;
pub mod engine;
mod error;
pub mod fit;
pub mod guard;
pub mod metric;
mod prefetch;
pub mod queue;
pub mod queueing;
pub mod quota;
pub mod replicate;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sketch;
pub mod stats;
pub mod sweep;
pub mod text;
pub mod threshold;
pub mod time;
pub mod validate;
pub mod workload;

pub use error::Error;
