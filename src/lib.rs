//! kueueleuleu: rewrite Pods, Jobs and CronJobs so their containers run one after the other.

pub mod config;
pub mod convert;
pub mod edit;
pub mod emit;
pub mod input;
pub mod object;
pub mod pipeline;
pub mod protocol;
pub mod results;
pub mod source;
pub mod step;
pub mod text;
pub mod yaml;
