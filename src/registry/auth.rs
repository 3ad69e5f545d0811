//! Credentials from the Docker config file, as `docker login` leaves them: `auths` entries
//! (basic `auth`, `username`/`password`, or a `registrytoken` bearer token) and credential
//! helpers (`credHelpers` per registry, `credsStore` for all), run as
//! `docker-credential-<name> get`.

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde_json::Value;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Docker Hub's key in Docker config files (what `docker login` writes for it).
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A Docker config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The file exists but is not JSON.
    #[error("{path}: not a Docker config file ({reason}); fix it or point DOCKER_CONFIG elsewhere")]
    BadFile {
        /// The config file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// An entry's `auth` is not base64 of `user:password`.
    #[error(
        "{path}: auths[{key:?}].auth is not base64 of USER:PASSWORD; run `docker login {key}` again"
    )]
    BadAuth {
        /// The config file.
        path: String,
        /// The `auths` key.
        key: String,
    },
    /// A credential helper failed.
    #[error("credential helper docker-credential-{helper} failed for {host}: {reason}")]
    Helper {
        /// The helper's name.
        helper: String,
        /// The registry.
        host: String,
        /// What went wrong.
        reason: String,
    },
}

/// The Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`); empty
/// when there is none, which means anonymous access everywhere.
#[derive(Debug, Default)]
pub struct DockerConfig {
    path: String,
    value: Value,
}

impl DockerConfig {
    /// Reads the config from where Docker reads it.
    pub fn load() -> Result<DockerConfig, AuthError> {
        let dir = std::env::var_os("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")));
        match dir {
            Some(dir) => DockerConfig::from_file(&dir.join("config.json")),
            None => Ok(DockerConfig::default()),
        }
    }

    /// Reads one config file; a missing file is an empty config.
    pub fn from_file(path: &Path) -> Result<DockerConfig, AuthError> {
        let shown = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(DockerConfig::default());
            }
            Err(e) => {
                return Err(AuthError::BadFile {
                    path: shown,
                    reason: e.to_string(),
                });
            }
        };
        let value = serde_json::from_str(&text).map_err(|e| AuthError::BadFile {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        Ok(DockerConfig { path: shown, value })
    }

    /// The credentials for `host` (as in a reference: `docker.io`, `ghcr.io`,
    /// `127.0.0.1:5000`), anonymous when none are configured.
    pub fn auth_for(&self, host: &str) -> Result<RegistryAuth, AuthError> {
        let server = if host == "docker.io" {
            DOCKER_HUB_KEY
        } else {
            host
        };
        let helper = self
            .value
            .pointer("/credHelpers")
            .and_then(|h| h.as_object())
            .and_then(|h| h.iter().find(|(k, _)| same_host(k, host)))
            .and_then(|(_, v)| v.as_str())
            .or_else(|| self.value.get("credsStore").and_then(Value::as_str));
        if let Some(helper) = helper.filter(|h| !h.is_empty())
            && let Some(auth) = run_helper(helper, server, host)?
        {
            return Ok(auth);
        }
        let Some((key, entry)) = self
            .value
            .get("auths")
            .and_then(Value::as_object)
            .and_then(|a| a.iter().find(|(k, _)| same_host(k, host)))
        else {
            return Ok(RegistryAuth::Anonymous);
        };
        let field = |name: &str| {
            entry
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(token) = field("registrytoken") {
            return Ok(RegistryAuth::Bearer(token.to_string()));
        }
        if let (Some(user), Some(password)) = (field("username"), field("password")) {
            return Ok(RegistryAuth::Basic(user.into(), password.into()));
        }
        if let Some(encoded) = field("auth") {
            let bad = || AuthError::BadAuth {
                path: self.path.clone(),
                key: key.clone(),
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map_err(|_| bad())?;
            let text = String::from_utf8(bytes).map_err(|_| bad())?;
            let (user, password) = text.split_once(':').ok_or_else(bad)?;
            return Ok(RegistryAuth::Basic(user.into(), password.into()));
        }
        Ok(RegistryAuth::Anonymous)
    }
}

/// Whether a Docker config key (`https://index.docker.io/v1/`, `ghcr.io`,
/// `http://127.0.0.1:5000/v2/`) names the registry `host`.
fn same_host(key: &str, host: &str) -> bool {
    let bare = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let bare = bare.split('/').next().unwrap_or(bare);
    let hub = |h: &str| matches!(h, "docker.io" | "index.docker.io" | "registry-1.docker.io");
    bare == host || (hub(bare) && hub(host))
}

/// Runs `docker-credential-NAME get` for `server`; `None` when it has no credentials for it.
fn run_helper(name: &str, server: &str, host: &str) -> Result<Option<RegistryAuth>, AuthError> {
    let fail = |reason: String| AuthError::Helper {
        helper: name.into(),
        host: host.into(),
        reason,
    };
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(format!(
                "cannot run {program} ({e}); install it or remove it from the Docker config"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(fail(format!("{} {}", stdout.trim(), stderr.trim())));
    }
    let v: Value =
        serde_json::from_str(&stdout).map_err(|e| fail(format!("its output is not JSON: {e}")))?;
    let user = v.get("Username").and_then(Value::as_str).unwrap_or("");
    let secret = v.get("Secret").and_then(Value::as_str).unwrap_or("");
    Ok(match (user, secret) {
        (_, "") => None,
        // An identity token is a refresh token for the registry's OAuth flow, which the client
        // does not run: used as a bearer token it is what the registry asks for on most
        // cloud registries that hand one out.
        ("<token>", token) => Some(RegistryAuth::Bearer(token.into())),
        (user, secret) => Some(RegistryAuth::Basic(user.into(), secret.into())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        DockerConfig {
            path: "config.json".into(),
            value: serde_json::from_str(json).unwrap(),
        }
    }

    #[test]
    fn auths_entries_give_basic_or_bearer() {
        let c = config(
            r#"{"auths": {
                "https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
                "http://127.0.0.1:5000/v2/": {"username": "u", "password": "p"},
                "ghcr.io": {"registrytoken": "tok"}}}"#,
        );
        let basic = |u: &str, p: &str| format!("{:?}", RegistryAuth::Basic(u.into(), p.into()));
        assert_eq!(
            format!("{:?}", c.auth_for("docker.io").unwrap()),
            basic("user", "pass")
        );
        assert_eq!(
            format!("{:?}", c.auth_for("127.0.0.1:5000").unwrap()),
            basic("u", "p")
        );
        assert!(matches!(c.auth_for("ghcr.io").unwrap(), RegistryAuth::Bearer(t) if t == "tok"));
        assert!(matches!(
            c.auth_for("quay.io").unwrap(),
            RegistryAuth::Anonymous
        ));
    }

    #[test]
    fn a_broken_auth_names_the_entry() {
        let c = config(r#"{"auths": {"ghcr.io": {"auth": "not base64!"}}}"#);
        let e = c.auth_for("ghcr.io").unwrap_err().to_string();
        assert!(
            e.contains("auths[\"ghcr.io\"]") && e.contains("docker login"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_helper_is_a_clear_error() {
        let c = config(r#"{"credHelpers": {"ghcr.io": "kueueleuleu-no-such-helper"}}"#);
        let e = c.auth_for("ghcr.io").unwrap_err().to_string();
        assert!(
            e.contains("docker-credential-kueueleuleu-no-such-helper"),
            "{e}"
        );
    }
}
