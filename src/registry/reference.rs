//! Image references as Docker and the kubelet read them: `nginx` is
//! `docker.io/library/nginx:latest`.

use oci_client::Reference;

/// An image reference that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "image {image:?} is not a valid image reference ({reason}); write it as [REGISTRY/]REPOSITORY[:TAG][@DIGEST]"
)]
pub struct BadReference {
    /// What the manifest says.
    pub image: String,
    /// Why it was refused.
    pub reason: String,
}

/// The full reference (registry, repository, tag or digest) the kubelet would pull for
/// `image`, with Docker Hub's defaults filled in.
pub fn parse(image: &str) -> Result<Reference, BadReference> {
    image.parse::<Reference>().map_err(|e| BadReference {
        image: image.to_string(),
        reason: e.to_string(),
    })
}

/// The registry's host (and port) as written in Docker config files and `--insecure-registry`:
/// Docker Hub's is `docker.io`.
pub fn host(reference: &Reference) -> &str {
    reference.registry()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_defaults_are_filled_in() {
        let r = parse("nginx").unwrap();
        assert_eq!(r.whole(), "docker.io/library/nginx:latest");
        let r = parse("bitnami/redis:7").unwrap();
        assert_eq!(r.whole(), "docker.io/bitnami/redis:7");
        let pinned = format!("127.0.0.1:5000/app@sha256:{}", "a".repeat(64));
        assert_eq!(parse(&pinned).unwrap().registry(), "127.0.0.1:5000");
    }

    #[test]
    fn bad_references_name_the_image() {
        let e = parse("Nginx:LATEST:x").unwrap_err();
        assert!(e.to_string().contains("\"Nginx:LATEST:x\""), "{e}");
    }
}
