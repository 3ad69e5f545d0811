//! Why an image could not be read, said so that the user knows what to do: every message
//! names the image, and not found, unauthorized and unreachable each say their fix.

use super::platform::Platform;
use oci_client::Reference;
use oci_client::errors::{OciDistributionError, OciErrorCode};

/// Why an image could not be read. Every message names the image and what to do.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The repository, tag or digest does not exist.
    #[error(
        "{image}: not found in its registry; check the name and tag (and that the registry is {registry})"
    )]
    NotFound {
        /// The reference as in the manifests.
        image: String,
        /// Where it was looked for.
        registry: String,
    },
    /// The registry refused the credentials (or wants some).
    #[error(
        "{image}: unauthorized at {registry}; log in (`docker login {registry}`) or add credentials for it to the Docker config ($DOCKER_CONFIG/config.json or ~/.docker/config.json)"
    )]
    Unauthorized {
        /// The reference as in the manifests.
        image: String,
        /// The registry.
        registry: String,
    },
    /// A multi-arch index without the wanted platform.
    #[error(
        "{image}: the index has no image for {want}; it has {have}; choose one with --platform"
    )]
    NoPlatform {
        /// The reference as in the manifests.
        image: String,
        /// What --platform asked for.
        want: Platform,
        /// What the index offers.
        have: String,
    },
    /// Anything else: network, timeouts, odd registries.
    #[error("{image}: {reason}")]
    Other {
        /// The reference as in the manifests.
        image: String,
        /// What went wrong, and what to try.
        reason: String,
    },
}

/// A failure before it is given the image's name.
#[derive(Debug)]
pub(super) enum Failure {
    /// What the client said.
    Oci(OciDistributionError),
    /// The index's platforms, none of them the one asked for.
    NoPlatform(String),
    /// Something that is not an image as expected.
    Spec(String),
}

impl From<OciDistributionError> for Failure {
    fn from(e: OciDistributionError) -> Self {
        Failure::Oci(e)
    }
}

/// The failure as the user should read it.
pub(super) fn explain(
    image: &str,
    reference: &Reference,
    want: &Platform,
    failure: Failure,
) -> FetchError {
    let registry = reference.registry().to_string();
    let other = |reason: String| FetchError::Other {
        image: image.into(),
        reason,
    };
    let e = match failure {
        Failure::NoPlatform(have) => {
            return FetchError::NoPlatform {
                image: image.into(),
                want: want.clone(),
                have,
            };
        }
        Failure::Spec(reason) => return other(reason),
        Failure::Oci(e) => e,
    };
    let not_found = || FetchError::NotFound {
        image: image.into(),
        registry: registry.clone(),
    };
    let unauthorized = || FetchError::Unauthorized {
        image: image.into(),
        registry: registry.clone(),
    };
    match &e {
        OciDistributionError::ImageManifestNotFoundError(_) => not_found(),
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => unauthorized(),
        OciDistributionError::ServerError { code: 404, .. } => not_found(),
        OciDistributionError::ServerError {
            code: 401 | 403, ..
        } => unauthorized(),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
            if codes.iter().any(|c| {
                matches!(
                    c,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                )
            }) {
                not_found()
            } else if codes
                .iter()
                .any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied))
            {
                unauthorized()
            } else {
                other(format!("the registry {registry} refused: {envelope}"))
            }
        }
        OciDistributionError::RequestError(r) if r.is_connect() || r.is_timeout() => {
            other(format!(
                "cannot reach {registry} ({}); check the name, the network, and --insecure-registry {registry} for a registry that speaks plain HTTP",
                error_chain(r)
            ))
        }
        _ => other(format!(
            "reading from {registry} failed: {}",
            error_chain(&e)
        )),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
