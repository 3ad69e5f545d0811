//! Argo CD: the plugin's `generate` command run as the CMP server runs it, with the
//! Application's parameters and plugin env.

use super::*;

/// `generate.command` of examples/argocd/plugin.yaml, run as the CMP server runs it: exec'd
/// (no shell), in the source directory, with only the server's variables plus `extra`.
fn generate(app_dir: &Path, extra: &[(&str, &str)]) -> Output {
    let text = std::fs::read_to_string(repo().join("examples/argocd/plugin.yaml")).unwrap();
    let plugin: serde_json::Value = serde_yaml::from_str(&text).unwrap();
    let argv: Vec<&str> = plugin["spec"]["generate"]["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(argv[0], "/usr/local/bin/kueueleuleu");
    let mut cmd = Command::new(kueueleuleu_bin());
    cmd.args(&argv[1..])
        .current_dir(app_dir)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("ARGOCD_APP_NAME", "sequential-jobs")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/batch")
        .env("KUBE_VERSION", "1.33.0")
        .env("ARGOCD_ENV_TEAM", "platform");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    run(&mut cmd, None)
}

/// An unannotated Job whose second container has no command: it converts only with
/// `selectAll` and a `commands` entry for its image.
const BATCH_JOB: &str = "\
apiVersion: batch/v1
kind: Job
metadata:
  name: nightly
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: fetch
          image: busybox:1.37
          command: [wget, -q, http://example.com/]
        - name: serve
          image: nginx:1.27
";

fn batch_app(tmp: &TempDir) -> PathBuf {
    let app = tmp.join("repo/apps/batch");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("job.yaml"), BATCH_JOB).unwrap();
    app
}

/// Plugin parameters as Argo CD passes them (the JSON and the PARAM_ variables it derives)
/// and the same settings from plugin env give the same converted Job.
#[test]
fn argocd_parameters_and_env_configure_the_conversion() {
    let tmp = TempDir::new("argocd-params");
    let app = batch_app(&tmp);
    let params = [
        (
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"selectAll","string":"true"},{"name":"image","string":"registry.example/kueueleuleu:v9"},{"name":"commands","map":{"nginx:1.27":"[\"/docker-entrypoint.sh\",\"nginx\"]"}}]"#,
        ),
        ("PARAM_SELECTALL", "true"),
        ("PARAM_IMAGE", "registry.example/kueueleuleu:v9"),
        (
            "PARAM_COMMANDS_NGINX_1_27",
            r#"["/docker-entrypoint.sh","nginx"]"#,
        ),
    ];
    let out = generate(&app, &params).success("generate with plugin parameters");
    let docs = documents(&out.stdout);
    let job = find_doc(&docs, "Job", "nightly");
    assert!(is_converted(job));
    assert_eq!(
        pod_spec(job)["initContainers"][0]["image"],
        "registry.example/kueueleuleu:v9"
    );
    assert_valid_kubernetes("argocd generate with parameters", &out.stdout);
    assert_expected("install-argocd-params.yaml", &out.stdout);

    let env = [
        ("ARGOCD_ENV_selectAll", "true"),
        ("ARGOCD_ENV_IMAGE", "registry.example/kueueleuleu:v9"),
        (
            "ARGOCD_ENV_COMMANDS",
            r#"{"nginx:1.27": ["/docker-entrypoint.sh", "nginx"]}"#,
        ),
    ];
    let same = generate(&app, &env).success("generate with plugin env");
    assert_eq!(same.stdout, out.stdout, "plugin env and parameters agree");

    // Without any setting the Job is not selected: the annotation rule holds.
    let plain = generate(&app, &[]).success("generate without parameters");
    assert_eq!(plain.stdout, BATCH_JOB);
}

/// Every bad setting fails generation: non-zero, nothing on stdout, the variable named.
#[test]
fn argocd_bad_parameters_fail_generation() {
    let tmp = TempDir::new("argocd-bad");
    let app = batch_app(&tmp);
    let cases: [(&str, &[(&str, &str)]); 6] = [
        ("selectAll not a boolean", &[("PARAM_SELECTALL", "yes")]),
        (
            "unknown parameter",
            &[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"selectall2","string":"true"}]"#,
            )],
        ),
        ("parameters not JSON", &[("ARGOCD_APP_PARAMETERS", "[{")]),
        (
            "command not a JSON list",
            &[(
                "ARGOCD_APP_PARAMETERS",
                r#"[{"name":"commands","map":{"nginx:1.27":"nginx -g daemon"}}]"#,
            )],
        ),
        ("misspelt env", &[("ARGOCD_ENV_SELECTAL", "true")]),
        (
            "parameter and env disagree",
            &[
                ("PARAM_IMAGE", "a.example/k:1"),
                ("ARGOCD_ENV_IMAGE", "b.example/k:1"),
            ],
        ),
    ];
    let mut report = String::new();
    for (name, env) in cases {
        let out = generate(&app, env);
        assert_eq!(out.code, 1, "{name}: exit 1\n{}", out.stderr);
        assert_eq!(out.stdout, "", "{name}: nothing on stdout");
        let var = env[0].0;
        assert!(
            out.stderr.contains(var) || name == "parameter and env disagree",
            "{name}: {}",
            out.stderr
        );
        report.push_str(&format!("== {name}\n{}", out.stderr));
    }
    assert_expected("install-argocd-bad-params.stderr", &report);
}

// ---------------------------------------------------------------------------------------
// Completions and man pages
