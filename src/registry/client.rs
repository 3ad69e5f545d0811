//! One image's run settings (ENTRYPOINT, CMD, WORKDIR, USER) read from its registry with
//! `oci-client`: the manifest (an index is narrowed to one platform), then the config blob.

use super::error::{Failure, FetchError, explain};
use super::platform::{self, Platform};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::{
    IMAGE_DOCKER_CONFIG_MEDIA_TYPE, IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, client::ClientConfig, client::ClientProtocol};
use serde_json::Value;
use std::time::Duration;

/// How often a request that failed for a passing reason (timeout, refused connection, 5xx,
/// 429) is tried in all.
const ATTEMPTS: u32 = 3;
/// The longest one image may take, retries included.
const PER_IMAGE: Duration = Duration::from_secs(120);

/// What an image runs, read from its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// Digest of what the reference names (the index, for a multi-arch image).
    pub digest: String,
    /// Digest of the platform's image manifest that was read.
    pub platform_digest: String,
    /// The platform read (for an index), or `None` for a single image.
    pub platform: Option<Platform>,
    /// `config.Entrypoint` (empty when unset).
    pub entrypoint: Vec<String>,
    /// `config.Cmd` (empty when unset).
    pub cmd: Vec<String>,
    /// `config.WorkingDir`, for information.
    pub workdir: Option<String>,
    /// `config.User`, for information.
    pub user: Option<String>,
    /// Things the user should know (platforms that disagree...).
    pub warnings: Vec<String>,
}

/// A registry client for one `resolve` run.
pub struct Registry {
    client: Client,
    platform: Platform,
}

impl Registry {
    /// `insecure`: registries (`HOST:PORT`) reached over plain HTTP.
    pub fn new(platform: Platform, insecure: &[String]) -> Registry {
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(insecure.to_vec()),
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(30)),
            user_agent: concat!("kueueleuleu/", env!("CARGO_PKG_VERSION")),
            ..ClientConfig::default()
        };
        Registry {
            client: Client::new(config),
            platform,
        }
    }

    /// Reads the run settings of `image` (as written in the manifests, `reference` parsed).
    pub async fn fetch(
        &self,
        image: &str,
        reference: &Reference,
        auth: &RegistryAuth,
    ) -> Result<ImageInfo, FetchError> {
        match tokio::time::timeout(PER_IMAGE, self.fetch_inner(reference, auth)).await {
            Ok(Ok(info)) => Ok(info),
            Ok(Err(e)) => Err(explain(image, reference, &self.platform, e)),
            Err(_) => Err(FetchError::Other {
                image: image.into(),
                reason: format!(
                    "no answer from {} within {}s; check the network or the registry",
                    reference.registry(),
                    PER_IMAGE.as_secs()
                ),
            }),
        }
    }

    async fn fetch_inner(
        &self,
        reference: &Reference,
        auth: &RegistryAuth,
    ) -> Result<ImageInfo, Failure> {
        let (top, digest) = self.manifest(reference, auth).await?;
        let Some(entries) = top.get("manifests").and_then(Value::as_array) else {
            let (config, _) = self.config(reference, &top).await?;
            return Ok(info(digest.clone(), digest, None, &config, Vec::new()));
        };
        let chosen = platform::choose(entries, &self.platform).ok_or_else(|| {
            let have: Vec<String> = entries
                .iter()
                .filter_map(Platform::of_entry)
                .filter(Platform::is_runnable)
                .map(|p| p.to_string())
                .collect();
            Failure::NoPlatform(if have.is_empty() {
                "no platforms".into()
            } else {
                have.join(", ")
            })
        })?;
        let mut read = Vec::new();
        for entry in entries {
            let Some(p) = Platform::of_entry(entry).filter(Platform::is_runnable) else {
                continue;
            };
            let d = entry
                .get("digest")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let at = reference.clone_with_digest(d.to_string());
            let (manifest, _) = self.manifest(&at, auth).await?;
            let (config, _) = self.config(&at, &manifest).await?;
            read.push((p, d.to_string(), config, std::ptr::eq(entry, chosen)));
        }
        let Some((p, d, config, _)) = read.iter().find(|r| r.3) else {
            return Err(Failure::Spec("the chosen index entry was not read".into()));
        };
        let mine = run_settings(config);
        let differ: Vec<String> = read
            .iter()
            .filter(|r| run_settings(&r.2) != mine)
            .map(|r| {
                let (e, c) = run_settings(&r.2);
                format!("{} has entrypoint {e:?} cmd {c:?}", r.0)
            })
            .collect();
        let warnings = if differ.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "the platforms of the index disagree on what the image runs: {p} (used, --platform) has entrypoint {:?} cmd {:?}, but {}; a Pod scheduled on another platform would run something else than its image says",
                mine.0,
                mine.1,
                differ.join("; ")
            )]
        };
        Ok(info(digest, d.clone(), Some(p.clone()), config, warnings))
    }

    /// A manifest or index as JSON, and its digest; retried on passing failures.
    async fn manifest(
        &self,
        r: &Reference,
        auth: &RegistryAuth,
    ) -> Result<(Value, String), Failure> {
        let accept = [
            OCI_IMAGE_INDEX_MEDIA_TYPE,
            IMAGE_MANIFEST_LIST_MEDIA_TYPE,
            OCI_IMAGE_MEDIA_TYPE,
            IMAGE_MANIFEST_MEDIA_TYPE,
        ];
        let (bytes, digest) = retry(|| self.client.pull_manifest_raw(r, auth, &accept)).await?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Spec(format!("its manifest is not JSON: {e}")))?;
        Ok((value, digest))
    }

    /// The config blob an image manifest points to.
    async fn config(&self, r: &Reference, manifest: &Value) -> Result<(Value, String), Failure> {
        let Some(digest) = manifest.pointer("/config/digest").and_then(Value::as_str) else {
            return Err(Failure::Spec(
                "its manifest has no config (is it an image?)".into(),
            ));
        };
        let media = manifest
            .pointer("/config/mediaType")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !media.is_empty()
            && media != oci_client::manifest::IMAGE_CONFIG_MEDIA_TYPE
            && media != IMAGE_DOCKER_CONFIG_MEDIA_TYPE
        {
            return Err(Failure::Spec(format!(
                "it is not a container image (config media type {media})"
            )));
        }
        let bytes = retry(|| async {
            let mut out = Vec::new();
            self.client
                .pull_blob(r, digest, &mut out)
                .await
                .map(|()| out)
        })
        .await?;
        let value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Spec(format!("its config is not JSON: {e}")))?;
        Ok((value, digest.to_string()))
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn run_settings(config: &Value) -> (Vec<String>, Vec<String>) {
    (
        strings(config.pointer("/config/Entrypoint")),
        strings(config.pointer("/config/Cmd")),
    )
}

fn info(
    digest: String,
    platform_digest: String,
    platform: Option<Platform>,
    config: &Value,
    warnings: Vec<String>,
) -> ImageInfo {
    let (entrypoint, cmd) = run_settings(config);
    let text = |p: &str| {
        config
            .pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    ImageInfo {
        digest,
        platform_digest,
        platform,
        entrypoint,
        cmd,
        workdir: text("/config/WorkingDir"),
        user: text("/config/User"),
        warnings,
    }
}

/// Whether trying again may help.
fn passing(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) => r.is_timeout() || r.is_connect() || r.is_request(),
        OciDistributionError::ServerError { code, .. } => *code >= 500 || *code == 429,
        _ => false,
    }
}

async fn retry<T, F, Fut>(mut call: F) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < ATTEMPTS && passing(&e) => {
                tokio::time::sleep(Duration::from_millis(500 << attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}
