//! What waiting costs: a Pod of many steps behind a gate that holds until the test opens it.
//! A waiting runner holds no inotify instance once its predecessor has started (a thread
//! blocked on the predecessor's lock wakes it instead), so a big Pod cannot exhaust the
//! node's `max_user_instances`; it may hold one only while its predecessor has not started.

use super::*;

/// inotify instances among `pid`'s open files.
fn inotify_instances(pid: i32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter(|l| l.to_string_lossy().contains("inotify"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn waiting_steps_let_go_of_inotify_once_their_predecessor_started() {
    if !kubelet::require_sandbox("waiting_steps_let_go_of_inotify_once_their_predecessor_started") {
        return;
    }
    let n = 40;
    let gate_dir = std::env::temp_dir().join(format!("e2e-gate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&gate_dir);
    std::fs::create_dir_all(&gate_dir).unwrap();
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let mut y = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: many\nspec:\n  restartPolicy: Never\n  containers:\n  - name: gate\n    image: busybox:1.37\n    command: [sh, -c, 'until [ -e /gate/open ]; do sleep 0.05; done']\n    volumeMounts:\n    - {name: gate, mountPath: /gate}\n",
    );
    for s in &names {
        y += &format!("  - name: {s}\n    image: busybox:1.37\n    command: [echo, {s}]\n");
    }
    y += &format!(
        "  volumes:\n  - name: gate\n    hostPath: {{path: {}}}\n",
        gate_dir.display()
    );
    let pod = kubelet().start(&convert(&y)).unwrap();
    let until = Instant::now() + DEADLINE;
    while !(0..=n).all(|i| {
        pod.dir()
            .join(format!("volumes/kueueleuleu-run-{i}/lock"))
            .exists()
    }) {
        assert!(Instant::now() < until, "not every step claimed its run dir");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Every predecessor has started: instances taken while one had not are let go (on a
    // background thread, so allow a moment).
    let counts = || -> Vec<usize> {
        names
            .iter()
            .map(|n| pod.pid(n).map_or(usize::MAX, inotify_instances))
            .collect()
    };
    let until = Instant::now() + Duration::from_secs(20);
    while counts().iter().any(|c| *c != 0) {
        assert!(
            Instant::now() < until,
            "waiting runners still hold inotify instances: {:?}",
            counts()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::write(gate_dir.join("open"), b"").unwrap();
    let run = pod.wait(DEADLINE).unwrap();
    std::fs::remove_dir_all(&gate_dir).unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_ordered(&run, &refs);
    for s in &names {
        assert_eq!(run.container(s).stdout(), format!("{s}\n"));
    }
}
