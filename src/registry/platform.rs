//! Choosing one image of a multi-arch index, as the kubelet of a node of that platform would.

use std::fmt;
use std::str::FromStr;

/// `os/arch[/variant]`, as in `--platform linux/arm64/v8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, `windows`...
    pub os: String,
    /// `amd64`, `arm64`...
    pub architecture: String,
    /// `v8`, `v7`...: only compared when given.
    pub variant: Option<String>,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl FromStr for Platform {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts[..] {
            [os, arch] | [os, arch, _] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: os.into(),
                architecture: arch.into(),
                variant: parts
                    .get(2)
                    .filter(|v| !v.is_empty())
                    .map(|v| v.to_string()),
            }),
            _ => Err(format!(
                "{s:?} is not a platform; write OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64"
            )),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// The platform of an index entry (`manifests[i].platform`), if it has one.
    pub fn of_entry(entry: &serde_json::Value) -> Option<Platform> {
        let p = entry.get("platform")?;
        Some(Platform {
            os: p.get("os")?.as_str()?.to_string(),
            architecture: p.get("architecture")?.as_str()?.to_string(),
            variant: p
                .get("variant")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
    }

    /// Whether an image of platform `other` runs where `self` was asked for. A variant is
    /// compared only when both name one.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }

    /// Whether an index entry is an image to run: buildkit's attestations are listed as
    /// `unknown/unknown`.
    pub fn is_runnable(&self) -> bool {
        self.os != "unknown" && self.architecture != "unknown"
    }
}

/// The index entry to read for `want`: an exact variant match first, then any entry of the
/// same OS and architecture.
pub fn choose<'a>(
    entries: &'a [serde_json::Value],
    want: &Platform,
) -> Option<&'a serde_json::Value> {
    let exact = entries
        .iter()
        .find(|e| Platform::of_entry(e).is_some_and(|p| p == *want));
    exact.or_else(|| {
        entries
            .iter()
            .find(|e| Platform::of_entry(e).is_some_and(|p| want.matches(&p)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn platforms_parse_and_print() {
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.variant.as_deref(), Some("v8"));
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!("linux".parse::<Platform>().is_err());
        assert_eq!(Platform::default().to_string(), "linux/amd64");
    }

    #[test]
    fn the_exact_variant_wins_and_attestations_are_not_images() {
        let entries = vec![
            json!({"digest": "a", "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}}),
            json!({"digest": "b", "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}),
            json!({"digest": "c", "platform": {"os": "unknown", "architecture": "unknown"}}),
        ];
        let want: Platform = "linux/arm/v7".parse().unwrap();
        assert_eq!(choose(&entries, &want).unwrap()["digest"], "b");
        let any_arm: Platform = "linux/arm".parse().unwrap();
        assert_eq!(choose(&entries, &any_arm).unwrap()["digest"], "a");
        assert!(choose(&entries, &Platform::default()).is_none());
        assert!(!Platform::of_entry(&entries[2]).unwrap().is_runnable());
    }
}
