//! fnstress: invoke a serverless function (or any HTTP endpoint) from many OS-thread workers
//! and report every outcome. The binary is a thin shell over this library so that tests,
//! benchmarks and fuzz targets can reach the same code.

pub mod client_options;
pub mod collector;
pub mod config;
pub mod duration;
pub mod engine;
pub mod error;
pub mod function_stats;
pub mod gateway;
pub mod lambda;
pub mod live;
pub mod messages;
pub mod options;
pub mod outcome;
pub mod payload;
pub mod platform_options;
pub mod report;
pub mod report_cmd;
pub mod run;
pub mod shard;
pub mod stats;
pub mod target;
pub mod threshold;
