#!/usr/bin/env python3
"""Writes a ResourceList of about SIZE_MB megabytes to stdout: Jobs with three containers,
a fraction of them annotated for conversion, interleaved with ConfigMaps (never touched)."""
import sys

size_mb = float(sys.argv[1]) if len(sys.argv) > 1 else 20
annotated_every = int(sys.argv[2]) if len(sys.argv) > 2 else 2
target = int(size_mb * 1024 * 1024)
out = sys.stdout
out.write("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n")
written, i = 0, 0
while written < target:
    ann = '      kueueleuleu.io/sequential: "true"\n' if i % annotated_every == 0 else ""
    job = f"""- apiVersion: batch/v1
  kind: Job
  metadata:
    name: job-{i}
    annotations:
{ann}      config.kubernetes.io/path: jobs/job-{i}.yaml
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
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cm-{i}
  data:
    key: "on"
"""
    out.write(job)
    written += len(job)
    i += 1
