//! How the step runner reaches a converted Pod: the function config's `install` mode and what
//! each mode injects.
//!
//! - `initContainer` (the default, any Kubernetes): the `kueueleuleu-init` init container
//!   copies the runner out of the release image into the `kueueleuleu-bin` emptyDir.
//! - `imageVolume`: `kueueleuleu-bin` is an `image` volume of the release image itself,
//!   mounted read-only with `subPath: usr/local/bin`. No init container runs and nothing is
//!   copied, but the API server must know `image` volumes (beta, on by default, since
//!   Kubernetes 1.35; `subPath` on them since 1.33) and the node's runtime must implement
//!   them with `subPath`: containerd 2.2+ or CRI-O 1.33+. containerd 2.1 and CRI-O 1.31/1.32
//!   mount image volumes but ignore `subPath` (the whole image lands at the mount path, and
//!   the runner is not found); containerd 1.x and 2.0 cannot create the containers at all.
//!
//! Both modes put the runner at the same [`protocol::RUNNER_PATH`], so the steps' `command`
//! and `args` do not depend on the mode, and a spec converted in one mode is read back and
//! re-converted in the other like any converted spec.

use super::{DEFAULTED_RESTART_ENV, Literals, Original, name_of};
use crate::protocol;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// An emptyDir volume that no container mounts, injected in `imageVolume` mode only when the
/// conversion set an unset `restartPolicy` to `Never`. It plays the part of the init
/// container's [`DEFAULTED_RESTART_ENV`]: revert reads it and unsets the policy again.
pub const DEFAULTED_RESTART_VOLUME: &str = "kueueleuleu-defaulted-restart-policy";

/// A downwardAPI volume that no container mounts, injected in `imageVolume` mode only when
/// the user wrote explicit nulls or empty lists in keys the conversion owns. It plays the
/// part of the init container's [`LITERALS_ENV`](super::LITERALS_ENV): its one item's
/// `path` is the same JSON record (a path may hold any text but `..` components; the kubelet
/// writes nothing for a volume no container mounts).
pub const LITERALS_VOLUME: &str = "kueueleuleu-original-literals";

/// Where the runner sits inside the release image, relative to its root: the `subPath` of
/// the image volume, mounted at [`protocol::BIN_DIR`].
pub const IMAGE_BIN_SUBPATH: &str = "usr/local/bin";

/// How the runner binary gets into a converted Pod.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Install {
    /// An init container copies the runner from `image` into an emptyDir (any Kubernetes).
    #[default]
    InitContainer,
    /// `image` is mounted as an `image` volume: no init container, no copy (Kubernetes 1.35+
    /// with containerd 2.2+ or CRI-O 1.33+ on the nodes: image volumes with `subPath`).
    ImageVolume,
}

/// The values of `install`, as written in a config.
pub const INSTALL_VALUES: [&str; 2] = ["initContainer", "imageVolume"];

impl Install {
    /// Reads a config value; the error names the accepted values and the nearest one.
    pub fn parse(text: &str) -> Result<Install, String> {
        match text {
            "initContainer" => Ok(Install::InitContainer),
            "imageVolume" => Ok(Install::ImageVolume),
            other => {
                let hint = crate::config::closest(other, &INSTALL_VALUES)
                    .map(|near| format!("did you mean {near:?}? "))
                    .unwrap_or_default();
                Err(format!(
                    "unknown install mode {other:?}; {hint}use {} (the default) or {}",
                    INSTALL_VALUES[0], INSTALL_VALUES[1]
                ))
            }
        }
    }

    /// As written in a config.
    pub fn as_str(self) -> &'static str {
        match self {
            Install::InitContainer => INSTALL_VALUES[0],
            Install::ImageVolume => INSTALL_VALUES[1],
        }
    }
}

impl<'de> Deserialize<'de> for Install {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Install, D::Error> {
        let text = String::deserialize(d)?;
        Install::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The mount of `kueueleuleu-bin` appended to every step: the runner at
/// [`protocol::RUNNER_PATH`] in both modes.
pub fn bin_mount(install: Install) -> Value {
    let mut mount =
        json!({"name": protocol::BIN_VOLUME, "mountPath": protocol::BIN_DIR, "readOnly": true});
    if install == Install::ImageVolume {
        mount["subPath"] = json!(IMAGE_BIN_SUBPATH);
    }
    mount
}

/// The volumes injected before the steps' run directories: `kueueleuleu-bin`, and in
/// `imageVolume` mode what revert needs (the init container holds it in the other mode):
/// the marker of a defaulted `restartPolicy` and the record of the user's literals.
pub fn bin_volumes(install: Install, image: &str, original: &Original) -> Vec<Value> {
    match install {
        Install::InitContainer => vec![json!({"name": protocol::BIN_VOLUME, "emptyDir": {}})],
        Install::ImageVolume => {
            // IfNotPresent whatever the tag: the runner image is versioned, and the kubelet
            // would default a `:latest` reference to Always.
            let mut volumes = vec![json!({
                "name": protocol::BIN_VOLUME,
                "image": {"reference": image, "pullPolicy": "IfNotPresent"},
            })];
            if original.restart_policy.is_none() {
                volumes.push(json!({"name": DEFAULTED_RESTART_VOLUME, "emptyDir": {}}));
            }
            if !original.literals.is_empty() {
                let record = serde_json::to_string(&original.literals).expect("strings serialize");
                volumes.push(json!({"name": LITERALS_VOLUME, "downwardAPI": {"items": [
                    {"path": record, "fieldRef": {"fieldPath": "metadata.name"}}]}}));
            }
            volumes
        }
    }
}

/// The injected init containers: the installer in `initContainer` mode, none otherwise.
pub fn init_tail(install: Install, image: &str, original: &Original) -> Vec<Value> {
    match install {
        Install::InitContainer => vec![super::init_container(image, original)],
        Install::ImageVolume => Vec::new(),
    }
}

/// The literals an `imageVolume` conversion recorded (see [`LITERALS_VOLUME`]).
pub fn recorded_literals(volumes: &[Value]) -> Literals {
    volumes
        .iter()
        .filter(|v| name_of(v) == Some(LITERALS_VOLUME))
        .filter_map(|v| {
            v.pointer("/downwardAPI/items/0/path")
                .and_then(Value::as_str)
        })
        .find_map(|text| serde_json::from_str(text).ok())
        .unwrap_or_default()
}

/// Whether a converted spec records that the conversion defaulted `restartPolicy`: the init
/// container's env var (`initContainer` mode) or the marker volume (`imageVolume` mode).
pub fn defaulted_restart(init: &[Value], volumes: &[Value]) -> bool {
    let env = init.iter().filter(|c| super::is_injected_init(c)).any(|c| {
        c.get("env").and_then(Value::as_array).is_some_and(|env| {
            env.iter()
                .any(|e| name_of(e) == Some(DEFAULTED_RESTART_ENV))
        })
    });
    env || volumes
        .iter()
        .any(|v| name_of(v) == Some(DEFAULTED_RESTART_VOLUME))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Spec as Config;
    use crate::convert::{apply_json, revert, unwrap, wrap};
    use crate::step_settings::StepsMap;

    fn config(install: Install) -> Config {
        Config {
            install,
            ..Config::default()
        }
    }

    #[test]
    fn image_volume_mode_injects_no_init_container_and_the_same_step_args() {
        let input = json!({"containers": [
            {"name": "a", "image": "x", "command": ["true"]},
            {"name": "b", "image": "x", "command": ["false"]}]});
        let original = unwrap(&input).unwrap();
        let by_init = wrap(&original, &config(Install::InitContainer), &StepsMap::new()).unwrap();
        let by_volume = wrap(&original, &config(Install::ImageVolume), &StepsMap::new()).unwrap();
        assert!(by_volume.init_tail.is_empty());
        assert_eq!(by_init.init_tail.len(), 1);
        for (a, b) in by_init.containers.iter().zip(&by_volume.containers) {
            assert_eq!((&a.command, &a.args), (&b.command, &b.args));
            assert_eq!(b.mount_tail[0]["subPath"], IMAGE_BIN_SUBPATH);
        }
        assert_eq!(
            by_volume.volume_tail[0]["image"]["reference"],
            crate::config::DEFAULT_IMAGE
        );
        assert_eq!(by_volume.volume_tail[1]["name"], DEFAULTED_RESTART_VOLUME);
    }

    #[test]
    fn modes_switch_both_ways_and_revert_exactly() {
        for policy in [None, Some("OnFailure")] {
            // `volumeMounts: []` is a literal revert must give back: recorded in both modes.
            let mut input = json!({"containers": [
                {"name": "a", "image": "x", "command": ["true"], "volumeMounts": []}]});
            if let Some(p) = policy {
                input["restartPolicy"] = json!(p);
            }
            let convert = |spec: &Value, install| {
                apply_json(
                    spec,
                    &wrap(&unwrap(spec).unwrap(), &config(install), &StepsMap::new()).unwrap(),
                )
            };
            let by_init = convert(&input, Install::InitContainer);
            let by_volume = convert(&input, Install::ImageVolume);
            assert_eq!(convert(&by_init, Install::ImageVolume), by_volume);
            assert_eq!(convert(&by_volume, Install::InitContainer), by_init);
            assert_eq!(convert(&by_volume, Install::ImageVolume), by_volume);
            let back = apply_json(&by_volume, &revert(&unwrap(&by_volume).unwrap()));
            assert_eq!(back, input, "restartPolicy {policy:?}");
            assert!(by_volume.get("initContainers").is_none(), "{by_volume}");
            let last = &by_volume["volumes"][by_volume["volumes"].as_array().unwrap().len() - 2];
            assert_eq!(last["name"], LITERALS_VOLUME, "{by_volume}");
        }
    }

    #[test]
    fn a_user_volume_with_the_marker_name_is_refused() {
        let input = json!({"containers": [{"name": "a", "command": ["true"]}],
                           "volumes": [{"name": DEFAULTED_RESTART_VOLUME, "emptyDir": {}}]});
        let errors = unwrap(&input).unwrap_err();
        assert_eq!(errors[0].field, "volumes[0].name");
    }

    #[test]
    fn bad_mode_names_the_nearest() {
        let err = Install::parse("imagevolume").unwrap_err();
        assert!(err.contains("did you mean \"imageVolume\""), "{err}");
        assert_eq!(Install::parse("initContainer"), Ok(Install::InitContainer));
    }
}
