//! kueueleuleu rewrites Pods, Jobs and CronJobs so that their containers run one after the
//! other inside one Pod, with no controller in the cluster: an init container installs a small
//! step runner, and each container runs through it, waiting for the steps before it.
//!
//! This crate is the converter as a library, on the Kubernetes types of
//! [`k8s_openapi`]: [`convert_pod`], [`convert_job`], [`convert_cron_job`] and
//! [`convert_pod_spec`], their `revert_*` inverses, and [`Options`] (the same settings as the
//! KRM function's config). Converting is idempotent, and reverting gives back the object as it
//! was written.
//!
//! ```
//! use k8s_openapi::api::batch::v1::{Job, JobSpec};
//! use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec};
//!
//! let step = |name: &str, script: &str| Container {
//!     name: name.into(),
//!     image: Some("busybox:1.36".into()),
//!     command: Some(vec!["sh".into(), "-c".into(), script.into()]),
//!     ..Container::default()
//! };
//! let job = Job {
//!     spec: Some(JobSpec {
//!         template: PodTemplateSpec {
//!             spec: Some(PodSpec {
//!                 containers: vec![step("fetch", "wget -O /data/in https://example.com"), step("build", "make")],
//!                 restart_policy: Some("Never".into()),
//!                 ..PodSpec::default()
//!             }),
//!             ..PodTemplateSpec::default()
//!         },
//!         ..JobSpec::default()
//!     }),
//!     ..Job::default()
//! };
//!
//! let sequential = kueueleuleu::convert_job(&job, &kueueleuleu::Options::default())?;
//! let spec = sequential.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
//! // "build" now starts through the runner and waits for "fetch".
//! assert_eq!(spec.containers[1].command.as_deref(), Some(&["/kueueleuleu/bin/kueueleuleu-step".to_string()][..]));
//! assert_eq!(spec.init_containers.as_ref().map(Vec::len), Some(1));
//! assert_eq!(kueueleuleu::revert_job(&sequential)?, job);
//! # Ok::<(), kueueleuleu::ConvertError>(())
//! ```
//!
//! [`status`] reads a converted Pod's progress back: each step's state, exit code and true
//! start ([`status::step_statuses`], [`status::running_step`]), also for a Job's Pods and a
//! CronJob's newest Job.
//!
//! Kubernetes versions: this library does not choose one (k8s-openapi's rule for libraries).
//! Its default feature `k8s-latest` enables the newest one for the crate's own binaries; a
//! program that uses the library sets `default-features = false` and enables the
//! `k8s-openapi` version feature it is built for.
//!
//! The modules below the API are the command line's and the KRM function's machinery. They
//! are public only so that the crate's own binaries and tests can reach them, and they are
//! not part of the supported API.

mod api;

pub use api::{
    ConvertError, Options, Problem, convert_cron_job, convert_job, convert_pod, convert_pod_spec,
    is_converted, revert_cron_job, revert_job, revert_pod, revert_pod_spec,
};

#[doc(hidden)]
pub mod argocd;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod convert;
#[doc(hidden)]
pub mod edit;
#[doc(hidden)]
pub mod emit;
#[doc(hidden)]
pub mod helm;
#[doc(hidden)]
pub mod input;
#[doc(hidden)]
pub mod object;
#[doc(hidden)]
pub mod pipeline;
#[doc(hidden)]
pub mod protocol;
#[doc(hidden)]
pub mod registry;
#[doc(hidden)]
pub mod results;
#[doc(hidden)]
pub mod source;
pub mod status;
#[doc(hidden)]
#[cfg(target_os = "linux")]
pub mod step;
#[doc(hidden)]
pub mod text;
#[doc(hidden)]
pub mod yaml;
