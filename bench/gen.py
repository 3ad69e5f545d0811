#!/usr/bin/env python3
"""Writes a benchmark input to stdout, deterministic for given arguments.

  gen.py jobs N               a plain multi-document stream of N Jobs, every one annotated
                              for conversion (the Go kueueleuleu CLI reads this shape too:
                              it takes only Pods, Jobs and CronJobs, and converts them all)
  gen.py mix SIZE_MB EVERY    a ResourceList (what kpt and kustomize send) of about SIZE_MB
                              megabytes: every EVERY-th item is an annotated Job, the others
                              alternate between unannotated Jobs and ConfigMaps, so selection
                              sees Pods-like kinds it must skip; EVERY=0 annotates none

The Job is realistic for what the converter edits: three containers, flow and block lists,
a block-literal script, a comment in a list, YAML 1.1 words that must stay quoted."""
import sys

ANNOTATION = '    kueueleuleu.io/sequential: "true"\n'


def job(i, annotated):
    ann = ANNOTATION if annotated else ""
    return f"""apiVersion: batch/v1
kind: Job
metadata:
  name: job-{i}
  annotations:
{ann}    config.kubernetes.io/path: jobs/job-{i}.yaml
    config.kubernetes.io/index: '0'
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: fetch   # first
        image: curlimages/curl:8.10.1
        command: [curl, -fsS, -o, /work/in.json, "https://example.invalid/{i}"]
        volumeMounts: [{{name: work, mountPath: /work}}]
      - name: build
        image: golang:1.23
        command: ["sh", "-c"]
        args:
        - |
          go build ./... && echo "on"
        volumeMounts:
        - name: work
          mountPath: /work
      - name: publish
        image: busybox:1.36
        command: [echo, "yes", "0123"]
      volumes:
      - name: work
        emptyDir: {{}}
"""


def config_map(i):
    return f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{i}
  annotations:
    config.kubernetes.io/path: cm/cm-{i}.yaml
data:
  key: "on"
  settings.json: '{{"replicas": {i % 7}, "enabled": true, "tags": ["a", "b", "c"]}}'
  script.sh: |
    #!/bin/sh
    set -eu
    echo "configuring {i}"
    exec /app/run --port=8080 --verbose
"""


def as_item(doc):
    """A document as an entry of `items:`, indented under its dash."""
    lines = doc.splitlines(keepends=True)
    return "- " + lines[0] + "".join("  " + l if l.strip() else l for l in lines[1:])


def jobs(n, out):
    for i in range(n):
        out.write("---\n" + job(i, True))


def mix(size_mb, every, out):
    target = int(size_mb * 1024 * 1024)
    head = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n"
    out.write(head)
    written, i = len(head), 0
    while written < target:
        if every and i % every == 0:
            item = job(i, True)
        elif i % 2:
            item = config_map(i)
        else:
            item = job(i, False)
        item = as_item(item)
        out.write(item)
        written += len(item)
        i += 1


def main(argv):
    out = sys.stdout
    if len(argv) == 3 and argv[1] == "jobs":
        jobs(int(argv[2]), out)
    elif len(argv) == 4 and argv[1] == "mix":
        mix(float(argv[2]), int(argv[3]), out)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
