//! kueueleuleu: rewrite Pods, Jobs and CronJobs so their containers run one after the other.

pub mod protocol;
pub mod step;
