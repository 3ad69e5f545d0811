//! The image, built and run the way users do: the README's container-function block is read
//! and its lines run as written (`sh -c LINE`, from a directory laid out like the repository
//! root), with podman standing in for docker.
//!
//! - One image per test process: the README's build and load lines run once, in
//!   `target/tmp/e2e-image/`, into a private podman store there (vfs, no daemon).
//! - kpt finds podman through `KPT_FN_RUNTIME=podman`; kustomize always calls `docker`, so a
//!   `docker` shim that runs podman comes first on `PATH`. Both shims log their arguments
//!   (to `$KUEUELEULEU_E2E_ARGS_LOG`), so a test can check how the tools started the image.
//! - A missing podman or buildah fails the test under `CI` and skips it elsewhere.

#![allow(dead_code)] // each test binary uses its own subset

use crate::tools_support::{Output, TempDir, copy_tree, repo, run, tool};
use kueueleuleu::config::DEFAULT_IMAGE;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The marker line just above the README block the tests run.
const README_MARKER: &str = "<!-- e2e_image:";

/// The lines of the README's container-function block, in order (comments and blank lines
/// dropped).
pub fn readme_block() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("read README.md");
    let after = readme
        .split_once(README_MARKER)
        .unwrap_or_else(|| panic!("README.md has no {README_MARKER:?} marker"))
        .1;
    let body = after
        .split_once("```sh\n")
        .expect("a ```sh block follows the README marker")
        .1;
    let body = body.split_once("```").expect("the README block ends").0;
    body.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// The one README line that starts with `prefix`.
pub fn readme_line(prefix: &str) -> String {
    let matching: Vec<String> = readme_block()
        .into_iter()
        .filter(|l| l.starts_with(prefix))
        .collect();
    assert_eq!(
        matching.len(),
        1,
        "exactly one line of the README's container block starts with {prefix:?}: {matching:?}"
    );
    matching.into_iter().next().unwrap()
}

/// Where the image was loaded, and how to run podman, kpt and kustomize against it.
pub struct ImageEnv {
    /// `target/tmp/e2e-image`: shims, podman config and store, the archive.
    pub dir: PathBuf,
    /// The real podman.
    pub podman: PathBuf,
    /// The docker-archive the README's build line wrote.
    pub archive: PathBuf,
}

static ENV: OnceLock<Option<ImageEnv>> = OnceLock::new();

/// The image environment, set up once per test process by running the README's build and
/// load lines; `None` (after saying why) when podman or buildah is missing outside CI.
pub fn image_env() -> Option<&'static ImageEnv> {
    ENV.get_or_init(setup).as_ref()
}

fn setup() -> Option<ImageEnv> {
    let podman = tool("podman")?;
    tool("buildah")?;
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-image");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)
            .unwrap_or_else(|e| panic!("remove the old {}: {e}", dir.display()));
    }
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // Rootful podman in this sandbox: it cannot raise RLIMIT_NOFILE (no default ulimits),
    // crun rejects the hybrid cgroup layout (runc), there is no systemd (cgroupfs, file
    // events), and vfs needs no kernel support.
    write(
        &dir.join("containers.conf"),
        "[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = \"runc\"\n\
         cgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
    );
    write(
        &dir.join("storage.conf"),
        &format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{0}/storage\"\nrunroot = \"{0}/runroot\"\n",
            dir.display()
        ),
    );
    // The shims: log the arguments, then run the real podman.
    for name in ["podman", "docker"] {
        write(
            &bin.join(name),
            &format!(
                "#!/bin/sh\n\
                 [ -z \"$KUEUELEULEU_E2E_ARGS_LOG\" ] || printf '%s\\n' \"{name} $*\" >>\"$KUEUELEULEU_E2E_ARGS_LOG\"\n\
                 exec {} \"$@\"\n",
                podman.display()
            ),
        );
        std::fs::set_permissions(bin.join(name), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The repository root as the README's lines see it: the scripts, nothing to modify.
    std::os::unix::fs::symlink(repo().join(".ci"), dir.join(".ci")).unwrap();
    let env = ImageEnv {
        archive: dir.join("kueueleuleu.tar"),
        dir,
        podman,
    };
    for prefix in [".ci/build-image.sh", "docker load"] {
        let line = readme_line(prefix);
        env.sh(&env.dir, &line, None).success(&line);
    }
    Some(env)
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

impl ImageEnv {
    /// Sets the environment every command of the tests runs with: the shims and the pinned
    /// tools first on `PATH`, podman's config, kpt's runtime, and where the shims log.
    pub fn configure(&self, cmd: &mut Command, args_log: Option<&Path>) {
        let mut dirs = vec![self.dir.join("bin"), repo().join(".tools/bin")];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        cmd.env("PATH", std::env::join_paths(dirs).unwrap())
            .env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .env("CONTAINERS_STORAGE_CONF", self.dir.join("storage.conf"))
            .env("KPT_FN_RUNTIME", "podman");
        match args_log {
            Some(log) => cmd.env("KUEUELEULEU_E2E_ARGS_LOG", log),
            None => cmd.env_remove("KUEUELEULEU_E2E_ARGS_LOG"),
        };
    }

    /// Runs a shell command line in `cwd`, configured as above.
    pub fn sh(&self, cwd: &Path, line: &str, args_log: Option<&Path>) -> Output {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(line).current_dir(cwd);
        self.configure(&mut cmd, args_log);
        run(&mut cmd, None)
    }

    /// A text file of the image (which has no shell or `cat` to print it), from its export.
    pub fn read_file(&self, file: &str) -> String {
        let id = self
            .podman(&["create", "--network", "none", DEFAULT_IMAGE])
            .success("podman create");
        let id = id.stdout.trim().to_string();
        let out = self.sh(
            &self.dir,
            &format!("podman export {id} | tar -xOf - {file}"),
            None,
        );
        self.podman(&["rm", &id]).success("podman rm");
        out.success(&format!("read {file} from the image")).stdout
    }

    /// Runs the real podman with `args`.
    pub fn podman(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(&self.podman);
        cmd.args(args);
        self.configure(&mut cmd, None);
        run(&mut cmd, None)
    }
}

/// A fresh directory laid out like the repository root (a copy of `examples/`), for the
/// README lines that run kpt or kustomize on the examples.
pub fn workspace(label: &str) -> TempDir {
    let tmp = TempDir::new(label);
    copy_tree(&repo().join("examples"), &tmp.join("examples"), None);
    tmp
}

/// The `run` lines of an argument log (how kpt or kustomize started the container).
pub fn run_invocations(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("read {}: {e}", log.display()))
        .lines()
        .filter(|l| l.split_whitespace().nth(1) == Some("run"))
        .map(String::from)
        .collect()
}

/// Asserts that a container was started as the orchestrators do by default: no network,
/// as `nobody`, without new privileges.
pub fn assert_started_locked_down(invocations: &[String], what: &str) {
    assert!(!invocations.is_empty(), "{what} started no container");
    for line in invocations {
        for want in ["--network none", "--user nobody", "no-new-privileges"] {
            assert!(line.contains(want), "{what}: {want:?} missing in {line:?}");
        }
    }
}
