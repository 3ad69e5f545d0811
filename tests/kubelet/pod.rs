//! The slice of the Pod API the emulator understands. Anything it cannot honour faithfully
//! (a volume type it does not know, say) is an error, never silently ignored.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Object {
    pub kind: String,
    #[serde(default)]
    pub metadata: Metadata,
    pub spec: serde_json::Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub uid: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    #[serde(default)]
    pub restart_policy: Option<String>,
    #[serde(default)]
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    #[serde(default)]
    pub volumes: Vec<Volume>,
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    pub name: String,
    #[serde(default)]
    pub image: String,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: Vec<EnvVar>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub volume_mounts: Vec<VolumeMount>,
    #[serde(default)]
    pub termination_message_path: Option<String>,
    #[serde(default)]
    pub termination_message_policy: Option<String>,
    #[serde(default)]
    pub security_context: Option<SecurityContext>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub value_from: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VolumeMount {
    pub name: String,
    pub mount_path: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub sub_path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    pub name: String,
    #[serde(default)]
    pub empty_dir: Option<serde_json::Value>,
    #[serde(default)]
    pub host_path: Option<HostPath>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostPath {
    pub path: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContext {
    #[serde(default)]
    pub run_as_user: Option<u32>,
    #[serde(default)]
    pub run_as_group: Option<u32>,
    #[serde(default)]
    pub run_as_non_root: Option<bool>,
    #[serde(default)]
    pub read_only_root_filesystem: Option<bool>,
}

/// A Pod to run: its identity and spec. Jobs are accepted for convenience (their template).
#[derive(Debug, Clone)]
pub struct Pod {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub spec: PodSpec,
}

/// Reads the first document of `yaml` as a Pod (or a Job's pod template).
pub fn parse(yaml: &str) -> Result<Pod, String> {
    let doc = yaml
        .split("\n---")
        .map(str::trim)
        .find(|d| {
            !d.is_empty()
                && d.lines()
                    .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        })
        .ok_or("no document")?;
    let obj: Object =
        serde_yaml::from_str(doc).map_err(|e| format!("not a Kubernetes object: {e}"))?;
    let spec = match obj.kind.as_str() {
        "Pod" => obj.spec,
        "Job" => obj.spec["template"]["spec"].clone(),
        other => return Err(format!("the emulator runs Pods and Jobs, not {other}")),
    };
    let spec: PodSpec = serde_json::from_value(spec).map_err(|e| format!("bad pod spec: {e}"))?;
    for v in &spec.volumes {
        if v.empty_dir.is_none() && v.host_path.is_none() {
            return Err(format!(
                "volume {:?}: only emptyDir and hostPath are emulated",
                v.name
            ));
        }
    }
    let name = if obj.metadata.name.is_empty() {
        "pod".into()
    } else {
        obj.metadata.name
    };
    Ok(Pod {
        uid: obj
            .metadata
            .uid
            .unwrap_or_else(|| format!("emulated-{name}")),
        namespace: obj.metadata.namespace.unwrap_or_else(|| "default".into()),
        name,
        spec,
    })
}
