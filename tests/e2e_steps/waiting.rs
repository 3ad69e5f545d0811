//! What waiting costs: a Pod of many steps behind a slow first one. Each waiting runner
//! holds at most one inotify instance (none, once its predecessor has started), so a big Pod
//! cannot exhaust the node's `max_user_instances`.

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
fn waiting_steps_hold_at_most_one_inotify_instance_each() {
    if !kubelet::require_sandbox("waiting_steps_hold_at_most_one_inotify_instance_each") {
        return;
    }
    let n = 40;
    let names: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let gate = kueueleuleu::protocol::run_dir(0);
    let mut steps = vec![("gate", "sleep 3".to_string())];
    steps.extend(names.iter().map(|s| (s.as_str(), format!("echo {s}"))));
    let steps: Vec<(&str, &str)> = steps.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let pod = kubelet()
        .start(&convert(&pod("many", "Never", &steps, "")))
        .unwrap();
    pod.wait_until(DEADLINE, "every step claimed its run dir", |p| {
        names.iter().all(|n| p.container(n).pid.is_some())
    })
    .unwrap();
    let until = Instant::now() + DEADLINE;
    while !(0..=n).all(|i| {
        pod.dir()
            .join(format!("volumes/kueueleuleu-run-{i}/lock"))
            .exists()
    }) {
        assert!(Instant::now() < until, "not every step claimed its run dir");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Settle: a runner that found its predecessor not yet started lets go of its instance
    // as soon as the predecessor's lock appears (on a background thread).
    std::thread::sleep(Duration::from_millis(300));
    let counts: Vec<usize> = names
        .iter()
        .filter_map(|n| pod.pid(n))
        .map(inotify_instances)
        .collect();
    assert_eq!(counts.len(), n, "a step ended while {gate} still ran");
    assert!(counts.iter().all(|c| *c <= 1), "{counts:?}");
    eprintln!(
        "{n} waiting steps hold {} inotify instance(s) in all",
        counts.iter().sum::<usize>()
    );
    let run = pod.wait(DEADLINE).unwrap();
    assert_eq!(run.phase, Phase::Succeeded, "{:#}", run.status());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_ordered(&run, &refs);
}
