#!/usr/bin/env python3
"""The measurements behind bench/run.sh (run that: it builds what this needs).

Every figure is CPU time (user+sys) or peak RSS of one process, from wait4 through
`kueueleuleu-bench measure`, never wall time: the machine is shared and loaded, and CPU time
is what a render pipeline pays. Each point is measured RUNS times, the commands of a point
interleaved run by run so that load drifts hit them alike; the table gives the median and
the spread (min..max). Outputs are checked before anything is reported.
"""
import os
import platform
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# BENCH_OURS measures another build of the converter (an older commit, for a before/after
# in one run): the same inputs, floor and Go CLI. An older build may re-emit the items it does
# not convert, so section 1 then checks that every object came back, not their bytes.
FOREIGN = os.environ.get("BENCH_OURS", "")
OURS = FOREIGN or os.path.join(ROOT, "target/release/kueueleuleu")
STEP = os.path.join(ROOT, "target/release/kueueleuleu-step")
TOOL = os.environ["BENCH_TOOL"]
GO = os.environ.get("BENCH_GO_CLI", "")
RUNS = int(os.environ.get("RUNS", "5"))
BIG_RUNS = int(os.environ.get("BIG_RUNS", "3"))
STEP_RUNS = int(os.environ.get("STEP_RUNS", "200"))
JOB_COUNTS = [int(n) for n in os.environ.get("JOB_COUNTS", "100 1000 10000").split()]
MIX_SIZES = [int(n) for n in os.environ.get("MIX_SIZES", "20 100").split()]
MIB = 1024 * 1024
SUMMARY = []  # (target, measured, met)


def verdict(target, measured, met):
    SUMMARY.append((target, measured, "met" if met else "MISSED"))


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def measure(cmd, stdin=None, stdout=None, stderr=None, stamp=False):
    """One run: dict of user, sys, cpu, rss (bytes), wall, exit[, start]."""
    args = [TOOL, "measure"]
    for flag, path in (("--in", stdin), ("--out", stdout), ("--err", stderr)):
        if path:
            args += [flag, path]
    if stamp:
        args += ["--stamp"]
    fields = sh(*args, "--", *cmd).split()
    run = dict(user=float(fields[0]), sys=float(fields[1]), rss=int(fields[2]) * 1024,
               wall=float(fields[3]), exit=int(fields[4]))
    run["cpu"] = run["user"] + run["sys"]
    if stamp:
        run["start"] = float(fields[5])
    return run


class Point:
    """Runs of one command on one input."""

    def __init__(self, name, cmd, stdin, check):
        self.name, self.cmd, self.stdin, self.check = name, cmd, stdin, check
        self.runs = []

    def once(self, work):
        out, err = os.path.join(work, "out"), os.path.join(work, "err")
        run = measure(self.cmd, self.stdin, out, err)
        if run["exit"] != 0:
            with open(err, encoding="utf-8", errors="replace") as f:
                tail = f.read()[-2000:]
            sys.exit(f"{self.name}: exit {run['exit']} on {self.stdin}:\n{tail}")
        if not self.runs:  # the output is the same every time: check it once
            problem = self.check(out)
            if problem:
                sys.exit(f"{self.name} on {self.stdin}: {problem}")
        os.unlink(out)
        self.runs.append(run)

    def med(self, key):
        return statistics.median(r[key] for r in self.runs)

    def cpu(self):
        values = [r["cpu"] for r in self.runs]
        return f"{statistics.median(values):.3f} [{min(values):.3f}..{max(values):.3f}]"

    def rss(self):
        return f"{self.med('rss') / MIB:.1f}"


def measure_all(points, runs, work):
    for _ in range(runs):
        for p in points:
            p.once(work)


# Output checks: a figure for a wrong output is no figure.
def identical_to(path):
    def check(out):
        with open(path, "rb") as a, open(out, "rb") as b:
            return None if a.read() == b.read() else "output differs from input (nothing was selected)"
    return check


def items_unchanged(path):
    """A ResourceList where nothing is selected: every item byte-identical, results appended."""
    def check(out):
        with open(path, "rb") as a, open(out, "rb") as b:
            before, after = a.read(), b.read()
        if after == before or (after.startswith(before) and after[len(before):].startswith(b"results:")):
            return None
        if FOREIGN and all(after.count(k) == before.count(k) for k in (b"kind: Job", b"kind: ConfigMap")):
            return None
        return "items changed although nothing was selected"
    return check


def converted(count):
    def check(out):
        with open(out, encoding="utf-8") as f:
            text = f.read()
        found = text.count("name: kueueleuleu-init")
        return None if found == count else f"{found} objects converted, expected {count}"
    return check


def kind_jobs(count):
    def check(out):
        with open(out, encoding="utf-8") as f:
            found = sum(1 for line in f if line.rstrip("\n") == "kind: Job")
        return None if found == count else f"{found} Jobs out, expected {count}"
    return check


def go_converted(count):
    def check(out):
        with open(out, encoding="utf-8") as f:
            text = f.read()
        docs = sum(1 for line in text.splitlines() if line == "---")
        steps = text.count("/tekton/bin/entrypoint")
        return None if docs == count and steps >= count else f"{docs} documents, {steps} steps out, expected {count}"
    return check


def any_output(out):
    return None if os.path.getsize(out) > 0 else "empty output"


def gen(work, name, *args):
    path = os.path.join(work, name)
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            subprocess.run([sys.executable, os.path.join(ROOT, "bench/gen.py"), *args], stdout=f, check=True)
    return path


def ratio(a, b):
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(line(r))
    print()


def versions():
    print("## Versions and machine\n")
    ours = (f"{sh(OURS, '--version')} ({FOREIGN}: {os.environ.get('BENCH_OURS_LABEL', 'another build')})"
            if FOREIGN else None)
    rows = [
        ("kueueleuleu", ours or f"{sh(OURS, '--version')} (git {sh('git', '-C', ROOT, 'rev-parse', '--short', 'HEAD')}, "
                        f"converter last changed in {sh('git', '-C', ROOT, 'log', '-1', '--format=%h', '--', 'src', 'Cargo.toml', 'Cargo.lock')}"
                        f"{', dirty' if sh('git', '-C', ROOT, 'status', '--porcelain', '--', 'src', 'Cargo.toml', 'Cargo.lock') else ''})"),
        ("rustc", sh("rustc", "--version")),
        ("floor crates", os.environ.get("BENCH_CRATES", "?")),
        ("Go kueueleuleu CLI", os.environ.get("BENCH_GO_VERSION", "absent")),
        ("machine", f"{platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"),
        ("runs per point", f"{RUNS} ({BIG_RUNS} for 10,000 Jobs and 100 MB; {STEP_RUNS} for the runner)"),
    ]
    table(("what", "version"), rows)


def nothing_selected(work):
    size = MIX_SIZES[0]
    path = gen(work, f"mix{size}-none.yaml", "mix", str(size), "0")
    mb = os.path.getsize(path) / MIB
    ours = Point("ours", [OURS], path, items_unchanged(path))
    floor = Point("floor", [TOOL, "serde"], path, any_output)
    scan = Point("saphyr", [TOOL, "saphyr"], path, identical_to(path))
    measure_all([ours, floor, scan], RUNS, work)
    print(f"## 1. {mb:.1f} MiB ResourceList, nothing selected (target: ours/floor <= 1.0x)\n")
    rows = [(p.name, p.cpu(), p.rss(), ratio(p.med("cpu"), floor.med("cpu"))) for p in (ours, floor, scan)]
    table(("program", "CPU s median [min..max]", "peak RSS MiB", "/ floor"), rows)
    r = ours.med("cpu") / floor.med("cpu")
    verdict(f"1. nothing selected ({mb:.0f} MiB): ours/floor <= 1.0x", f"{r:.2f}x", r <= 1.0)


def all_converted(work):
    rows, per_job = [], []
    for n in JOB_COUNTS:
        path = gen(work, f"jobs{n}.yaml", "jobs", str(n))
        points = [Point("ours", [OURS, "convert"], path, converted(n)),
                  Point("floor", [TOOL, "serde"], path, kind_jobs(n)),
                  Point("saphyr", [TOOL, "saphyr"], path, identical_to(path))]
        if GO:
            points.append(Point("go", [GO, "-f", "-"], path, go_converted(n)))
        measure_all(points, BIG_RUNS if n >= 10000 else RUNS, work)
        ours, floor, scan = points[:3]
        go = points[3] if GO else None
        rows.append((
            f"{n:,}", f"{os.path.getsize(path) / MIB:.1f}",
            ours.cpu(), floor.cpu(), ratio(ours.med("cpu"), floor.med("cpu")), scan.cpu(),
            go.cpu() if go else "-", ratio(ours.med("cpu"), go.med("cpu")) if go else "-",
            ours.rss(), floor.rss(), go.rss() if go else "-",
        ))
        per_job.append((n, ours.med("cpu"), floor.med("cpu"), go.med("cpu") if go else None))
        r = ours.med("cpu") / floor.med("cpu")
        verdict(f"2. {n:,} Jobs all converted: ours/floor <= 3x", f"{r:.2f}x", r <= 3)
        if go:
            r = ours.med("cpu") / go.med("cpu")
            verdict(f"4. {n:,} Jobs: ours faster than the Go CLI", f"{r:.2f}x its CPU", r < 1)
            verdict(f"4. {n:,} Jobs: peak RSS <= the Go CLI's", f"{ours.rss()} vs {go.rss()} MiB",
                    ours.med("rss") <= go.med("rss"))
    print("## 2+4. Streams of N Jobs, every one converted (targets: ours/floor <= 3x, "
          "ours/Go < 1x in time, RSS <= Go)\n")
    if not GO:
        print("(Go kueueleuleu CLI absent: set KUEUELEULEU_GO_SRC to its source; see bench/build_go_cli.sh)\n")
    table(("N", "MiB", "ours CPU s", "floor CPU s", "ours/floor", "saphyr CPU s", "Go CPU s",
           "ours/Go", "ours RSS MiB", "floor RSS MiB", "Go RSS MiB"), rows)
    lin = [(f"{n:,}", f"{o / n * 1e3:.3f}", f"{f / n * 1e3:.3f}", f"{g / n * 1e3:.3f}" if g else "-")
           for n, o, f, g in per_job]
    print("Linearity: CPU ms per Job (constant when time is linear in N)\n")
    table(("N", "ours ms/Job", "floor ms/Job", "Go ms/Job"), lin)
    if len(per_job) > 1:
        costs = [o / n for n, o, _, _ in per_job]
        spread = max(costs) / min(costs)
        verdict("2. time linear in N (max/min CPU per Job)", f"{spread:.2f}", spread <= 1.5)


def one_percent(work):
    rows, per_mb = [], []
    for size in MIX_SIZES:
        path = gen(work, f"mix{size}-1pc.yaml", "mix", str(size), "100")
        with open(path, encoding="utf-8") as f:
            selected = f.read().count('kueueleuleu.io/sequential: "true"')
        mb = os.path.getsize(path) / MIB
        ours = Point("ours", [OURS], path, converted(selected))
        floor = Point("floor", [TOOL, "serde"], path, any_output)
        measure_all([ours, floor], BIG_RUNS if size >= 100 else RUNS, work)
        rows.append((f"{mb:.1f}", f"{selected:,}", ours.cpu(), floor.cpu(),
                     ratio(ours.med("cpu"), floor.med("cpu")), ours.rss(),
                     f"{ours.med('rss') / MIB / mb:.2f}x", floor.rss()))
        per_mb.append((mb, ours.med("cpu"), floor.med("cpu")))
        x = ours.med("rss") / MIB / mb
        verdict(f"3. {mb:.0f} MiB, 1% Jobs: peak RSS <= 2x input (issue 13)", f"{x:.2f}x", x <= 2)
        verdict(f"3. {mb:.0f} MiB, 1% Jobs: peak RSS <= 4x input (issue 7)", f"{x:.2f}x", x <= 4)
    print("## 3. ResourceList with 1% of objects annotated Jobs (targets: peak RSS <= 2x input "
          "(issue 13), <= 4x (issue 7); time linear in size)\n")
    table(("input MiB", "converted", "ours CPU s", "floor CPU s", "ours/floor", "ours RSS MiB",
           "RSS/input", "floor RSS MiB"), rows)
    print("Linearity: CPU s per MiB of input\n")
    table(("input MiB", "ours s/MiB", "floor s/MiB"),
          [(f"{mb:.1f}", f"{o / mb:.4f}", f"{f / mb:.4f}") for mb, o, f in per_mb])
    if len(per_mb) > 1:
        costs = [o / mb for mb, o, _ in per_mb]
        spread = max(costs) / min(costs)
        verdict("3. time linear in size (max/min CPU per MiB)", f"{spread:.2f}", spread <= 1.5)


def runner(work):
    runs = tempfile.mkdtemp(prefix="runner.", dir=work)
    runners = [("kueueleuleu-step run (release, glibc)", STEP)]
    static = os.environ.get("BENCH_STEP_STATIC")
    if static:
        runners.append(("kueueleuleu-step run (static musl, as in the image)", static))

    def step(binary, i, *cmd):
        run_dir = os.path.join(runs, f"run-{i}")
        os.mkdir(run_dir)
        return [binary, "run", "--name", "x", "--run-dir", run_dir, "--termination-path",
                os.path.join(run_dir, "termination"), "--command-len", "1", "--", *cmd]

    ways = [("direct", None)] + runners
    starts = {name: [] for name, _ in ways}
    trues = {name: [] for name, _ in ways}
    for i in range(STEP_RUNS):
        for k, (name, binary) in enumerate(ways):
            for target, probe, stamp in ((starts, [TOOL, "stamp"], True), (trues, ["/bin/true"], False)):
                cmd = step(binary, f"{k}-{i}-{stamp}", *probe) if binary else probe
                r = measure(cmd, stamp=stamp)
                if r["exit"] != 0:
                    sys.exit(f"runner: {cmd} exited {r['exit']}")
                target[name].append(r)

    def stats(runs, key, scale, fmt):
        v = sorted(r[key] * scale for r in runs)
        return (fmt.format(statistics.median(v)), fmt.format(v[len(v) // 10]), fmt.format(v[len(v) * 9 // 10]))

    med = lambda runs, key: statistics.median(r[key] for r in runs)
    print("## 5. Step runner overhead (target: < 1 ms to exec, < 2 MiB peak RSS)\n")
    print("Start: wall time from just before the spawn to the first clock read of the final program\n"
          "(a tiny stamp program), run directly and through `kueueleuleu-step run -- PROG`.\n"
          "CPU and peak RSS: the same with /bin/true (CPU includes /bin/true's own). The meter's\n"
          "small floor is in every RSS figure: see `direct`. Overheads are differences of medians;\n"
          "the CPU one is less sensitive to the machine's load than the wall-clock one.\n")
    rows = []
    for name, _ in ways:
        rows.append((name, *stats(starts[name], "start", 1e3, "{:.3f}"), *stats(trues[name], "cpu", 1e3, "{:.3f}"),
                     stats(trues[name], "rss", 1 / 1024, "{:.0f}")[0]))
    table(("how", "start ms median", "p10", "p90", "CPU ms median", "p10", "p90", "peak RSS KiB"), rows)
    base_start, base_cpu = med(starts["direct"], "start"), med(trues["direct"], "cpu")
    rows = []
    for name, _ in runners:
        over = med(starts[name], "start") - base_start
        cpu_over = med(trues[name], "cpu") - base_cpu
        peak = med(trues[name], "rss")
        rows.append((name, f"{over * 1e3:.3f}", f"{cpu_over * 1e3:.3f}", f"{peak / 1024:.0f}"))
        verdict(f"5. {name}: start-to-exec overhead < 1 ms", f"{over * 1e3:.3f} ms wall, {cpu_over * 1e3:.3f} ms CPU",
                over < 1e-3)
        verdict(f"5. {name}: peak RSS < 2 MiB (meter floor included)", f"{peak / 1024:.0f} KiB", peak < 2 * MIB)
    table(("runner", "start overhead ms (wall)", "CPU overhead ms", "peak RSS KiB"), rows)


def main():
    sections = sys.argv[1:] or ["1", "2", "3", "5"]
    work = os.environ.get("BENCH_WORK") or tempfile.mkdtemp(prefix="kueueleuleu-bench.")
    os.makedirs(work, exist_ok=True)
    versions()
    for s in sections:
        {"1": nothing_selected, "2": all_converted, "3": one_percent, "5": runner}[s](work)
        sys.stdout.flush()
    print("## Targets\n")
    table(("target", "measured", "verdict"), SUMMARY)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
