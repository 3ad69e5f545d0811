//! Where the input comes from: `-f` files, directories and stdin, read the way kubectl reads
//! them. A directory gives its `.yaml`, `.yml` and `.json` files in name order; `-R` descends
//! into subdirectories, and without it every skipped subdirectory that holds manifests is
//! named, so an Argo CD app with subfolders never silently loses objects. Symlinks are
//! followed; a dangling or looping one is an error naming the path.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One input and the name it is reported under.
#[derive(Debug)]
pub struct Source {
    /// The path as given (or found under a directory), or `-` for stdin.
    pub name: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: a symbolic link whose target does not exist; fix or remove the link")]
    Dangling(String),
    #[error(
        "{0}: symbolic links loop back to a directory already read; remove the loop or pass the directory once"
    )]
    Loop(String),
    #[error("{0}: no .yaml, .yml or .json files in this directory{1}")]
    EmptyDir(String, &'static str),
    #[error("stdin (`-`) can be read only once")]
    StdinTwice,
}

/// What was read, and the subdirectories left out (without `-R`) that hold manifests.
#[derive(Debug, Default)]
pub struct Gathered {
    /// In the order given, directory entries sorted by name.
    pub sources: Vec<Source>,
    /// Subdirectories not read because `-R` was not given, though they hold manifests.
    pub skipped_dirs: Vec<String>,
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Reads every path (`-` is stdin; no path at all means stdin).
pub fn gather(paths: &[PathBuf], recursive: bool) -> Result<Gathered, ReadError> {
    let mut out = Gathered::default();
    if paths.is_empty() {
        out.sources.push(stdin()?);
        return Ok(out);
    }
    let mut stdin_read = false;
    let mut seen_dirs = HashSet::new();
    for path in paths {
        if path == Path::new("-") {
            if stdin_read {
                return Err(ReadError::StdinTwice);
            }
            stdin_read = true;
            out.sources.push(stdin()?);
            continue;
        }
        let meta = metadata(path)?;
        if meta.is_dir() {
            let before = out.sources.len();
            walk(path, recursive, &mut seen_dirs, &mut out)?;
            if out.sources.len() == before {
                let hint = if recursive || out.skipped_dirs.is_empty() {
                    ""
                } else {
                    " (its subdirectories hold some: add -R)"
                };
                return Err(ReadError::EmptyDir(path.display().to_string(), hint));
            }
        } else {
            out.sources.push(read_file(path)?);
        }
    }
    Ok(out)
}

fn walk(
    dir: &Path,
    recursive: bool,
    seen: &mut HashSet<PathBuf>,
    out: &mut Gathered,
) -> Result<(), ReadError> {
    let real = std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
    if !seen.insert(real) {
        return Err(ReadError::Loop(dir.display().to_string()));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| io(dir, e)))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        let meta = metadata(&entry)?;
        if meta.is_dir() {
            if recursive {
                walk(&entry, recursive, seen, out)?;
            } else if holds_manifests(&entry) {
                out.skipped_dirs.push(entry.display().to_string());
            }
        } else if is_manifest(&entry) {
            out.sources.push(read_file(&entry)?);
        }
    }
    Ok(())
}

/// Whether a directory has manifests anywhere below it (links not followed, so this
/// cannot loop).
fn holds_manifests(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => holds_manifests(&p),
            _ => is_manifest(&p),
        }
    })
}

/// Metadata through symlinks, telling a dangling or looping link from other failures.
fn metadata(path: &Path) -> Result<std::fs::Metadata, ReadError> {
    std::fs::metadata(path).map_err(|e| {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        match e.kind() {
            std::io::ErrorKind::NotFound if is_link => {
                ReadError::Dangling(path.display().to_string())
            }
            // ELOOP (40 on Linux, 62 on macOS): too many levels of symbolic links.
            _ if is_link && matches!(e.raw_os_error(), Some(40 | 62)) => {
                ReadError::Loop(path.display().to_string())
            }
            _ => io(path, e),
        }
    })
}

fn read_file(path: &Path) -> Result<Source, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    Ok(Source {
        name: path.display().to_string(),
        bytes,
    })
}

fn stdin() -> Result<Source, ReadError> {
    // Redirected from a file, stdin says how big it is: read it into a buffer of that size
    // rather than one grown by doubling, which can hold twice the input at its peak.
    let mut bytes = Vec::with_capacity(stdin_size_hint().map_or(0, |n| n.saturating_add(1)));
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io {
            path: "stdin".into(),
            source: e,
        })?;
    Ok(Source {
        name: "-".into(),
        bytes,
    })
}

/// The size of stdin when it is a regular file.
#[cfg(unix)]
fn stdin_size_hint() -> Option<usize> {
    use std::os::fd::AsFd;
    let file = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    meta.is_file()
        .then(|| usize::try_from(meta.len()).ok())
        .flatten()
}

#[cfg(not(unix))]
fn stdin_size_hint() -> Option<usize> {
    None
}

fn io(path: &Path, source: std::io::Error) -> ReadError {
    ReadError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(name: &str) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("kueueleuleu-input-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
        std::fs::write(root.join("b.yaml"), "b").unwrap();
        std::fs::write(root.join("a.json"), "a").unwrap();
        std::fs::write(root.join("notes.txt"), "x").unwrap();
        std::fs::write(root.join("sub/deeper/c.yml"), "c").unwrap();
        root
    }

    #[test]
    fn directories_sorted_and_subdirectories_named_or_read() {
        let root = tree("dirs");
        let flat = gather(std::slice::from_ref(&root), false).unwrap();
        let names: Vec<_> = flat.sources.iter().map(|s| s.bytes.clone()).collect();
        assert_eq!(names, [b"a".to_vec(), b"b".to_vec()]);
        assert_eq!(flat.skipped_dirs, [root.join("sub").display().to_string()]);
        let deep = gather(std::slice::from_ref(&root), true).unwrap();
        assert_eq!(deep.sources.len(), 3);
        assert!(deep.skipped_dirs.is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn dangling_and_looping_links_are_errors() {
        let root = tree("links");
        std::os::unix::fs::symlink(root.join("missing.yaml"), root.join("z.yaml")).unwrap();
        let err = gather(std::slice::from_ref(&root), false).unwrap_err();
        assert!(
            matches!(err, ReadError::Dangling(ref p) if p.ends_with("z.yaml")),
            "{err}"
        );
        std::fs::remove_file(root.join("z.yaml")).unwrap();
        std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
        let err = gather(std::slice::from_ref(&root), true).unwrap_err();
        assert!(matches!(err, ReadError::Loop(_)), "{err}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
