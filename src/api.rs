//! The library API on Kubernetes types, for Rust programs (a kube-rs controller, a test
//! harness) that hold `k8s_openapi` objects rather than YAML text.
//!
//! The same plan the CLI applies to YAML text is applied here to the typed object, so a
//! library conversion and a CLI conversion of the same object mean the same thing. Fields
//! outside the ones kueueleuleu owns are left exactly as they are.

use crate::config::Spec;
use crate::convert::{self, Finding, Severity};
use crate::step_settings::{STEPS_ANNOTATION, StepsMap, parse_annotation};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

/// Settings of a conversion: the runner image, commands for containers that set none, and
/// whether everything is converted. The same settings as the function config's `spec`.
pub type Options = Spec;

/// One reason an object cannot be converted, with the field (below the pod spec) and what
/// to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path below the pod spec, e.g. `containers[0].command`.
    pub field: String,
    /// What is wrong and the fix.
    pub message: String,
}

/// Why a conversion or revert was refused; the object given is never modified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// The pod spec cannot run in sequence as it is (every problem is listed).
    #[error("{}", .0.iter().map(|p| format!("{}: {}", p.field, p.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// The object has no pod spec where its kind keeps one.
    #[error("the object has no pod spec at {0}")]
    NoPodSpec(&'static str),
    /// The typed object could not be read as JSON or back (should not happen).
    #[error("internal: {0}")]
    Internal(String),
}

fn problems(findings: Vec<Finding>) -> ConvertError {
    ConvertError::Invalid(
        findings
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| Problem {
                field: f.field,
                message: f.message,
            })
            .collect(),
    )
}

fn to_value(spec: &PodSpec) -> Result<Value, ConvertError> {
    serde_json::to_value(spec).map_err(|e| ConvertError::Internal(e.to_string()))
}

fn from_value(value: Value) -> Result<PodSpec, ConvertError> {
    serde_json::from_value(value).map_err(|e| ConvertError::Internal(e.to_string()))
}

/// The sequential form of a pod spec. Converting a converted spec gives it back unchanged.
/// Step settings come from `options.steps` only (a pod spec has no annotations; the
/// object-level functions also read `kueueleuleu.io/steps`).
pub fn convert_pod_spec(spec: &PodSpec, options: &Options) -> Result<PodSpec, ConvertError> {
    convert_spec_with(spec, options, &(StepsMap::new(), None))
}

fn convert_spec_with(
    spec: &PodSpec,
    options: &Options,
    (annotation, sidecars): &(StepsMap, Option<Vec<String>>),
) -> Result<PodSpec, ConvertError> {
    let value = to_value(spec)?;
    let mut original = convert::unwrap(&value).map_err(problems)?;
    original.moved.annotation = sidecars.clone();
    let plan = convert::wrap(&original, options, annotation).map_err(problems)?;
    let converted = from_value(convert::apply_json(&value, &plan))?;
    if options.install == convert::Install::ImageVolume && !has_image_volume(&converted) {
        return Err(ConvertError::Invalid(vec![Problem {
            field: "volumes".into(),
            message: "install: imageVolume needs `image` volumes, which the Kubernetes version \
                      chosen for k8s-openapi does not have (they came in 1.31); choose a newer \
                      one or install: initContainer"
                .into(),
        }]));
    }
    let wants_pod_resources = plan
        .key_edits
        .iter()
        .any(|e| e.path == "resources" && e.value.is_some());
    if wants_pod_resources && to_value(&converted)?.get("resources").is_none() {
        return Err(ConvertError::Invalid(vec![Problem {
            field: "resources".into(),
            message: "resources: max needs pod-level resources (spec.resources), which the \
                      Kubernetes version chosen for k8s-openapi does not have (they came in \
                      1.34); choose a newer one or resources: keep"
                .into(),
        }]));
    }
    Ok(converted)
}

/// Whether the typed spec kept the injected `image` volume (k8s-openapi drops the field in
/// Kubernetes versions that do not know it).
fn has_image_volume(spec: &PodSpec) -> bool {
    to_value(spec).is_ok_and(|v| {
        v["volumes"].as_array().is_some_and(|all| {
            all.iter().any(|vol| {
                vol["name"] == crate::protocol::BIN_VOLUME && vol["image"]["reference"].is_string()
            })
        })
    })
}

/// The object's `kueueleuleu.io/steps` and `kueueleuleu.io/sidecars` annotations, read as
/// the CLI reads them.
fn steps_annotation(meta: &ObjectMeta) -> Result<(StepsMap, Option<Vec<String>>), ConvertError> {
    let annotation = |key: &str| meta.annotations.as_ref().and_then(|a| a.get(key));
    let refused = |key: &str, message: String| {
        ConvertError::Invalid(vec![Problem {
            field: format!("metadata.annotations.{key}"),
            message,
        }])
    };
    let steps = match annotation(STEPS_ANNOTATION) {
        None => StepsMap::new(),
        Some(text) => parse_annotation(text).map_err(|m| refused(STEPS_ANNOTATION, m))?,
    };
    let sidecars_key = convert::sidecars::SIDECARS_ANNOTATION;
    let sidecars = match annotation(sidecars_key) {
        None => None,
        Some(text) => {
            Some(convert::sidecars::parse_names(text).map_err(|m| refused(sidecars_key, m))?)
        }
    };
    Ok((steps, sidecars))
}

/// The pod spec as it was before conversion (a spec not in sequential form comes back as is).
pub fn revert_pod_spec(spec: &PodSpec) -> Result<PodSpec, ConvertError> {
    let value = to_value(spec)?;
    let original = convert::unwrap(&value).map_err(problems)?;
    if !original.was_converted {
        return Ok(spec.clone());
    }
    from_value(convert::apply_json(&value, &convert::revert(&original)))
}

/// Whether a pod spec is in sequential form.
pub fn is_converted(spec: &PodSpec) -> bool {
    to_value(spec)
        .ok()
        .and_then(|v| convert::unwrap(&v).ok())
        .is_some_and(|o| o.was_converted)
}

/// Applies `f` to the pod spec at `path` of `object`. Goes through JSON rather than the
/// typed fields, because which of those are optional differs between Kubernetes versions
/// (a CronJob's `spec` is optional before 1.36), and the version is the caller's choice.
fn with_spec<T: serde::Serialize + serde::de::DeserializeOwned>(
    object: &T,
    path: &'static [&'static str],
    f: impl Fn(&PodSpec) -> Result<PodSpec, ConvertError>,
) -> Result<T, ConvertError> {
    let internal = |e: serde_json::Error| ConvertError::Internal(e.to_string());
    let mut value = serde_json::to_value(object).map_err(internal)?;
    let slot = path
        .iter()
        .try_fold(&mut value, |v, key| v.get_mut(*key))
        .filter(|v| v.is_object())
        .ok_or(ConvertError::NoPodSpec(spec_path(path)))?;
    let spec: PodSpec = serde_json::from_value(slot.take()).map_err(internal)?;
    *slot = serde_json::to_value(f(&spec)?).map_err(internal)?;
    serde_json::from_value(value).map_err(internal)
}

fn spec_path(path: &[&str]) -> &'static str {
    match path.len() {
        1 => "spec",
        3 => "spec.template.spec",
        _ => "spec.jobTemplate.spec.template.spec",
    }
}

const POD: &[&str] = &["spec"];
const JOB: &[&str] = &["spec", "template", "spec"];
const CRON_JOB: &[&str] = &["spec", "jobTemplate", "spec", "template", "spec"];

/// A Pod whose containers run one after the other.
pub fn convert_pod(pod: &Pod, options: &Options) -> Result<Pod, ConvertError> {
    let steps = steps_annotation(&pod.metadata)?;
    with_spec(pod, POD, |s| convert_spec_with(s, options, &steps))
}

/// A Job whose Pod's containers run one after the other.
pub fn convert_job(job: &Job, options: &Options) -> Result<Job, ConvertError> {
    let steps = steps_annotation(&job.metadata)?;
    with_spec(job, JOB, |s| convert_spec_with(s, options, &steps))
}

/// A CronJob whose Jobs' containers run one after the other.
pub fn convert_cron_job(cron_job: &CronJob, options: &Options) -> Result<CronJob, ConvertError> {
    let steps = steps_annotation(&cron_job.metadata)?;
    with_spec(cron_job, CRON_JOB, |s| {
        convert_spec_with(s, options, &steps)
    })
}

/// The Pod as it was before [`convert_pod`].
pub fn revert_pod(pod: &Pod) -> Result<Pod, ConvertError> {
    with_spec(pod, POD, revert_pod_spec)
}

/// The Job as it was before [`convert_job`].
pub fn revert_job(job: &Job) -> Result<Job, ConvertError> {
    with_spec(job, JOB, revert_pod_spec)
}

/// The CronJob as it was before [`convert_cron_job`].
pub fn revert_cron_job(cron_job: &CronJob) -> Result<CronJob, ConvertError> {
    with_spec(cron_job, CRON_JOB, revert_pod_spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Container;

    fn step(name: &str, command: &[&str]) -> Container {
        Container {
            name: name.into(),
            image: Some("busybox:1.36".into()),
            command: Some(command.iter().map(|s| s.to_string()).collect()),
            ..Container::default()
        }
    }

    #[test]
    fn typed_conversion_is_the_plan_and_reverts_exactly() {
        let spec = PodSpec {
            containers: vec![step("a", &["echo", "a"]), step("b", &["echo", "b"])],
            restart_policy: Some("Never".into()),
            ..PodSpec::default()
        };
        let converted = convert_pod_spec(&spec, &Options::default()).unwrap();
        assert!(is_converted(&converted) && !is_converted(&spec));
        let b = &converted.containers[1];
        assert_eq!(
            b.command.as_deref(),
            Some(&[crate::protocol::RUNNER_PATH.to_string()][..])
        );
        let args = b.args.clone().unwrap();
        assert!(
            args.windows(2)
                .any(|w| w == ["--wait-for", "/kueueleuleu/run/0"])
        );
        assert_eq!(converted.init_containers.as_ref().unwrap().len(), 1);
        assert_eq!(
            convert_pod_spec(&converted, &Options::default()).unwrap(),
            converted
        );
        assert_eq!(revert_pod_spec(&converted).unwrap(), spec);
    }

    #[test]
    fn typed_image_volume_mode_keeps_the_image_volume_and_reverts() {
        let spec = PodSpec {
            containers: vec![step("a", &["echo", "a"])],
            ..PodSpec::default()
        };
        let options = Options {
            install: convert::Install::ImageVolume,
            ..Options::default()
        };
        let converted = convert_pod_spec(&spec, &options).unwrap();
        assert!(converted.init_containers.is_none());
        assert!(has_image_volume(&converted));
        assert_eq!(revert_pod_spec(&converted).unwrap(), spec);
    }

    #[test]
    fn typed_max_requests_the_largest_step_and_reverts() {
        use k8s_openapi::api::core::v1::ResourceRequirements;
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
        let sized = |name: &str, cpu: &str, memory: &str| {
            let list: std::collections::BTreeMap<String, Quantity> = [
                ("cpu".to_string(), Quantity(cpu.into())),
                ("memory".to_string(), Quantity(memory.into())),
            ]
            .into();
            Container {
                resources: Some(ResourceRequirements {
                    requests: Some(list.clone()),
                    limits: Some(list),
                    ..ResourceRequirements::default()
                }),
                ..step(name, &["true"])
            }
        };
        let spec = PodSpec {
            containers: vec![sized("a", "500m", "1Gi"), sized("b", "2", "256Mi")],
            restart_policy: Some("Never".into()),
            ..PodSpec::default()
        };
        let options = Options {
            resources: convert::resources::ResourcePolicy::Max,
            ..Options::default()
        };
        let converted = convert_pod_spec(&spec, &options).unwrap();
        let pod = converted.resources.clone().unwrap();
        let requests = pod.requests.unwrap();
        assert_eq!(requests["cpu"], Quantity("2".into()));
        assert_eq!(requests["memory"], Quantity("1Gi".into()));
        assert_eq!(pod.limits.unwrap(), requests, "Guaranteed at pod level");
        let b = converted.containers[1].resources.clone().unwrap();
        assert_eq!(b.requests.unwrap()["cpu"], Quantity("1".into()));
        assert_eq!(b.limits.unwrap()["cpu"], Quantity("2".into()));
        assert_eq!(convert_pod_spec(&converted, &options).unwrap(), converted);
        assert_eq!(revert_pod_spec(&converted).unwrap(), spec);
    }

    #[test]
    fn refusals_list_every_problem() {
        let spec = PodSpec {
            containers: vec![Container {
                name: "web".into(),
                image: Some("nginx:1.27".into()),
                ..Container::default()
            }],
            restart_policy: Some("Always".into()),
            ..PodSpec::default()
        };
        let err = convert_pod_spec(&spec, &Options::default()).unwrap_err();
        let ConvertError::Invalid(problems) = &err else {
            panic!("{err}")
        };
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["restartPolicy", "containers[0].command"]);
        assert!(matches!(
            convert_job(&Job::default(), &Options::default()),
            Err(ConvertError::NoPodSpec("spec.template.spec"))
        ));
    }
}
