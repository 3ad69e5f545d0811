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
//! A controller's whole round trip, as one program: convert a Job, then read the steps of
//! one of its Pods from the status the kubelet reports. The first step has finished, so the
//! kubelet shows its container terminated, with the runner's record as the termination
//! message; the second step's container has run since the Pod started, but its command only
//! started when the first step ended, and that is the start reported.
//!
//! ```
//! use k8s_openapi::api::batch::v1::{Job, JobSpec};
//! use k8s_openapi::api::core::v1::{
//!     Container, ContainerState, ContainerStateRunning, ContainerStateTerminated,
//!     ContainerStatus, Pod, PodSpec, PodStatus, PodTemplateSpec,
//! };
//! use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
//! use k8s_openapi::jiff::Timestamp;
//! use kueueleuleu::status::{StepState, running_step, step_statuses};
//!
//! let step = |name: &str, script: &str| Container {
//!     name: name.into(),
//!     image: Some("busybox:1.36".into()),
//!     command: Some(vec!["sh".into(), "-c".into(), script.into()]),
//!     ..Container::default()
//! };
//! let job = Job {
//!     metadata: ObjectMeta { name: Some("nightly".into()), ..ObjectMeta::default() },
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
//! let converted = kueueleuleu::convert_job(&job, &kueueleuleu::Options::default())?;
//!
//! // One of the Job's Pods, as the API server shows it 30 s after it started.
//! let ts = |t: &str| t.parse::<Timestamp>().expect("an RFC 3339 time");
//! let at = |t: &str| Time(ts(t));
//! let status = |name: &str, state: ContainerState| ContainerStatus {
//!     name: name.into(),
//!     image: "docker.io/library/busybox:1.36".into(),
//!     image_id: "sha256:af14ee01501453ba8bc9235febcdaa3802dce161b445e8a102724716c310553a".into(),
//!     ready: state.running.is_some(),
//!     restart_count: 0,
//!     started: Some(state.running.is_some()),
//!     state: Some(state),
//!     ..ContainerStatus::default()
//! };
//! let pod = Pod {
//!     metadata: ObjectMeta { name: Some("nightly-x7k2p".into()), ..ObjectMeta::default() },
//!     spec: converted.spec.as_ref().unwrap().template.spec.clone(),
//!     status: Some(PodStatus {
//!         phase: Some("Running".into()),
//!         container_statuses: Some(vec![
//!             status("fetch", ContainerState {
//!                 terminated: Some(ContainerStateTerminated {
//!                     exit_code: 0,
//!                     reason: Some("Completed".into()),
//!                     // What the runner writes to /dev/termination-log.
//!                     message: Some(r#"{"name":"fetch","reason":"Succeeded","exitCode":0,"startedAt":"2026-12-02T10:00:01.512Z","finishedAt":"2026-12-02T10:00:09.204Z"}"#.into()),
//!                     started_at: Some(at("2026-12-02T10:00:01Z")),
//!                     finished_at: Some(at("2026-12-02T10:00:09Z")),
//!                     ..ContainerStateTerminated::default()
//!                 }),
//!                 ..ContainerState::default()
//!             }),
//!             status("build", ContainerState {
//!                 running: Some(ContainerStateRunning { started_at: Some(at("2026-12-02T10:00:01Z")) }),
//!                 ..ContainerState::default()
//!             }),
//!         ]),
//!         ..PodStatus::default()
//!     }),
//! };
//!
//! let steps = step_statuses(&pod);
//! assert_eq!(steps.len(), 2);
//! assert_eq!((steps[0].name.as_str(), steps[0].state, steps[0].exit_code), ("fetch", StepState::Succeeded, Some(0)));
//! assert_eq!(steps[0].started_at, Some(ts("2026-12-02T10:00:01.512Z")));
//! let build = running_step(&pod).expect("build runs");
//! assert_eq!(build.name, "build");
//! // It really started when "fetch" finished, not when its container did.
//! assert_eq!(build.started_at, Some(ts("2026-12-02T10:00:09.204Z")));
//! assert_eq!(build.duration(ts("2026-12-02T10:00:30.204Z")).map(|d| d.as_secs()), Some(21));
//! # Ok::<(), kueueleuleu::ConvertError>(())
//! ```
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
#[doc(hidden)]
pub mod spill;
pub mod status;
#[doc(hidden)]
#[cfg(target_os = "linux")]
pub mod step;
pub mod step_settings;
#[doc(hidden)]
pub mod text;
#[doc(hidden)]
pub mod yaml;
