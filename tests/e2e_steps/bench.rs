//! The step-gap benchmark (`bench/step_gap.sh`): not a test, ignored by default.

use super::*;

/// Not a test: `bench/step_gap.sh` runs it and prints the figures. It asserts nothing about
/// speed. Two shapes: "cold", 20 no-op steps whose containers all start together (the
/// successors' containers may still be starting when their predecessor ends, so the gap
/// includes container start-up), and "warm", the same 20 behind a 1 s gate step, so every
/// runner is already waiting and the gap is the runner's own hand-over.
#[test]
#[ignore = "benchmark; run bench/step_gap.sh"]
fn step_gap_benchmark() {
    assert!(kubelet::require_sandbox("step_gap_benchmark"));
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let names: Vec<String> = (0..20).map(|i| format!("s{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let k = Kubelet {
        max_start_delay: Duration::ZERO,
        ..kubelet()
    };
    let stat = |v: &[f64], q: f64| {
        let mut v = v.to_vec();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[((v.len() - 1) as f64 * q).round() as usize]
    };
    for gate in [false, true] {
        let mut y = String::from(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bench\nspec:\n  restartPolicy: Never\n  containers:\n",
        );
        if gate {
            y += "  - name: gate\n    image: busybox:1.37\n    command: [sleep, \"1\"]\n";
        }
        for n in &names {
            y += &format!("  - name: {n}\n    image: busybox:1.37\n    command: [/bin/true]\n");
        }
        let yaml = convert(&y);
        let (mut gaps, mut walls, mut steps_walls) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let t = Instant::now();
            let run = k.run(&yaml, DEADLINE).unwrap();
            walls.push(t.elapsed().as_secs_f64() * 1e3);
            assert_eq!(run.phase, Phase::Succeeded);
            gaps.extend(assert_ordered(&run, &refs));
            let first = time(&record(&run, "s0"), "startedAt");
            let last = time(&record(&run, "s19"), "finishedAt");
            steps_walls.push(gap_ms(first, last));
        }
        let shape = if gate {
            "warm (behind a 1 s gate)"
        } else {
            "cold (all containers start together)"
        };
        println!(
            "{shape}: gap over {} transitions: median {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            gaps.len(),
            stat(&gaps, 0.5),
            stat(&gaps, 0.99),
            stat(&gaps, 1.0)
        );
        println!(
            "{shape}: 20 no-op steps, median of {rounds}: pod wall {:.1} ms (emulator, with init and gate), first step start to last step end {:.1} ms",
            stat(&walls, 0.5),
            stat(&steps_walls, 0.5)
        );
    }
    let script: String = (0..20).map(|_| "/bin/true\n").collect();
    let mut shell = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let ok = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .status()
            .unwrap();
        assert!(ok.success());
        shell.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "the same 20 commands as one shell script: median {:.2} ms",
        stat(&shell, 0.5)
    );
}
