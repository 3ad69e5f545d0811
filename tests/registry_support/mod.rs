//! A real OCI registry (distribution's `registry`) started by the tests on 127.0.0.1, and
//! `crane` to push images into it. Both are built by `.ci/install-registry-tools.sh`; a
//! missing one fails the test under `CI` and skips it, naming the tool, elsewhere.

#![allow(dead_code)] // each test binary uses its own subset

#[path = "../support/tools.rs"]
mod tools;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// User and password of the registry that requires auth.
pub const USER: &str = "tester";
/// The password; `HTPASSWD` is its bcrypt hash (cost 5), made once with Go's bcrypt.
pub const PASSWORD: &str = "kueueleuleu-test";
const HTPASSWD: &str = "$2a$05$R9JSs/JnjllVWNlUfT4mR.GmnJwhWM/J3IXN2tBdfkBXuF1I8yUxW";

/// A temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory for `name`.
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kueueleuleu-registry-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running registry; stopped on drop.
pub struct Registry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// Working files (storage, config, the Docker config for crane).
    pub dir: TempDir,
    crane: PathBuf,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pinned tools, or `None` (skipped) when one is missing outside CI.
pub fn tools() -> Option<(PathBuf, PathBuf)> {
    Some((tools::find("registry")?, tools::find("crane")?))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Registry {
    /// Starts a registry; with `auth`, it requires the basic credentials USER/PASSWORD, and
    /// crane is logged in (in the registry's own Docker config, `docker_config()`).
    pub fn start(name: &str, auth: bool) -> Option<Registry> {
        let (registry, crane) = tools()?;
        let dir = TempDir::new(name);
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {host}\n",
            dir.0.join("storage").display()
        );
        if auth {
            let file = dir.0.join("htpasswd");
            std::fs::write(&file, format!("{USER}:{HTPASSWD}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kueueleuleu-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_file = dir.0.join("config.yml");
        std::fs::write(&config_file, config).unwrap();
        std::fs::create_dir_all(dir.0.join("docker")).unwrap();
        let log = std::fs::File::create(dir.0.join("registry.log")).unwrap();
        let child = Command::new(registry)
            .arg("serve")
            .arg(&config_file)
            .env("OTEL_TRACES_EXPORTER", "none")
            .env("OTEL_SDK_DISABLED", "true")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting registry");
        let r = Registry {
            child,
            host,
            dir,
            crane,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&r.host).is_err() {
            assert!(
                Instant::now() < deadline,
                "registry did not listen on {} within 30s: {}",
                r.host,
                std::fs::read_to_string(r.dir.0.join("registry.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        if auth {
            r.crane(&["auth", "login", &r.host, "-u", USER, "-p", PASSWORD]);
        }
        Some(r)
    }

    /// The Docker config directory crane logged in with (empty without auth).
    pub fn docker_config(&self) -> PathBuf {
        self.dir.0.join("docker")
    }

    /// Runs crane (against this registry's Docker config); panics with its output on failure.
    pub fn crane(&self, args: &[&str]) -> String {
        let out = Command::new(&self.crane)
            .args(args)
            .env("DOCKER_CONFIG", self.docker_config())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "crane {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Pushes `repo:tag` (`repo` without the host): one tiny layer, with the given
    /// ENTRYPOINT and CMD (`None`: unset), platform, workdir and user. Returns the reference.
    pub fn push(
        &self,
        repo: &str,
        platform: &str,
        entrypoint: Option<&[&str]>,
        cmd: Option<&[&str]>,
    ) -> String {
        let layer = self.dir.0.join("layer.tar");
        if !layer.exists() {
            // An empty tar archive: two zero blocks.
            std::fs::write(&layer, [0u8; 1024]).unwrap();
        }
        let reference = format!("{}/{repo}", self.host);
        let base = format!("{reference}-base");
        let layer = layer.display().to_string();
        self.crane(&["append", "--insecure", "-f", &layer, "-t", &base]);
        let mut args = vec![
            "mutate",
            "--insecure",
            base.as_str(),
            "-t",
            reference.as_str(),
        ];
        let set_platform = format!("--set-platform={platform}");
        args.push(&set_platform);
        let e;
        if let Some(entry) = entrypoint {
            e = format!("--entrypoint={}", entry.join(","));
            args.push(&e);
        }
        let c;
        if let Some(cmd) = cmd {
            c = format!("--cmd={}", cmd.join(","));
            args.push(&c);
        }
        self.crane(&args);
        reference
    }

    /// Pushes an index of `images` (references pushed with `push`) as `repo:tag`.
    pub fn push_index(&self, repo: &str, images: &[String]) -> String {
        let reference = format!("{}/{repo}", self.host);
        let mut args = vec!["index", "append", "--insecure", "-t", reference.as_str()];
        for i in images {
            args.push("-m");
            args.push(i);
        }
        self.crane(&args);
        reference
    }

    /// The digest `reference` resolves to.
    pub fn digest(&self, reference: &str) -> String {
        self.crane(&["digest", "--insecure", reference])
    }
}

/// Runs the `kueueleuleu` binary under test in `dir` with `DOCKER_CONFIG` set.
pub fn kueueleuleu(dir: &Path, docker_config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kueueleuleu"))
        .args(args)
        .current_dir(dir)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("HOME")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Writes `text` into `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The text of `dir/name`.
pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Writes `dir/pod.yaml`: a Pod `p` with one container `a` that runs `image` and sets no
/// command, so that resolve has to read the image; `annotated` selects it without `--all`.
pub fn one_pod(dir: &Path, image: &str, annotated: bool) {
    let annotations = if annotated {
        ", annotations: {kueueleuleu.io/sequential: \"true\"}"
    } else {
        ""
    };
    write(
        dir,
        "pod.yaml",
        &format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p{annotations}}}\nspec:\n  containers:\n  - {{name: a, image: \"{image}\"}}\n"
        ),
    );
}

/// `resolve EXTRA... -f FILE --config fn.yaml --insecure-registry HOST`.
pub fn resolve_args<'a>(file: &'a str, host: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["resolve"];
    args.extend_from_slice(extra);
    args.extend([
        "-f",
        file,
        "--config",
        "fn.yaml",
        "--insecure-registry",
        host,
    ]);
    args
}
