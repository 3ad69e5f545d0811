#!/usr/bin/env python3
"""Shares of a perf profile by phase, from `perf script -F ip,sym` on stdin.

  perf script -i target/profile/jobs.data --comm kueueleuleu -F ip,sym | bench/perf_share.py

perf's own inclusive view under-counts work that allocates: glibc's malloc has no frame
pointers, so a sample inside malloc often loses the caller chain. This script attributes
every sample to the innermost phase found on its (possibly partial) stack, with memory
allocator samples whose chain is broken counted apart, so the phases add up to 100%.
"""
import collections
import sys

# Innermost first: a sample belongs to the first phase whose function is on its stack.
PHASES = [
    ("re-read of the edited object (object::edit_text -> parse_object)", ["object::edit_text"], "object::parse_object"),
    ("edit (edit::apply)", ["edit::apply"], None),
    ("check of the edit (edit_text: clone, apply_json, compare)", ["object::edit_text"], None),
    ("plan + convert (convert::*, plan_for)", ["object::plan_for", "convert::"], None),
    ("parse of the selected object (parse_object)", ["object::parse_object"], None),
    ("scan of the whole input (yaml::scan)", ["yaml::scan::"], None),
    ("splice / output (text::splice, write)", ["text::splice", "std::io::Write", "write_all"], None),
    ("reading stdin", ["read_to_end", "read_stdin"], None),
    ("rest of the pipeline (pipeline, object::process)", ["pipeline::", "object::process"], None),
]


def phase_of(stack):
    for name, anchors, inner in PHASES:
        for i, frame in enumerate(stack):  # stack: innermost first
            if any(a in frame for a in anchors):
                if inner is None or any(inner in f for f in stack[:i]):
                    return name
                break
    if stack and any(k in stack[0] for k in ("malloc", "free", "realloc", "_int_", "unlink_chunk", "consolidate")):
        return "allocator, caller chain lost (glibc has no frame pointers)"
    if stack and stack[0].startswith("[k]"):
        return "kernel (exec, page faults, I/O, scheduling)"
    return "other (startup, unknown chains)"


def main():
    counts, self_counts, total = collections.Counter(), collections.Counter(), 0
    stack = []
    for line in list(sys.stdin) + [""]:
        line = line.strip()
        if not line:
            if stack:
                total += 1
                counts[phase_of(stack)] += 1
                self_counts[stack[0]] += 1
            stack = []
            continue
        ip, _, sym = line.partition(" ")
        stack.append(("[k]" + sym) if ip.startswith("ffffffff") else sym)
    print(f"{total} samples")
    for name, n in counts.most_common():
        print(f"{100 * n / total:6.2f}%  {name}")


if __name__ == "__main__":
    main()
