#!/usr/bin/env python3
"""A training worker written the way the earlier fleet's daemon was, from what is known of it (shared/EARLIER-SYSTEM.md and
issue 15), to check that such a worker runs unmodified against Cis490's /v1 endpoints.

What it knows: the eleven endpoints and nothing of the coordinator's field names beyond what a claim answers. Like the
earlier daemon it is stdlib only (urllib), detects its capability and sends it flat, claims with a 10 s timeout, runs the
trainer as a subprocess, heartbeats every 30 s (with the trainer's last output line as its progress), tars the model
directory, sha256s the tarball and sends that with the PUT, then completes -- or reports the failure. It never sends a
lease id (the earlier protocol had none) and sends no credential (the coordinator runs with --v1-anonymous).

Every step is printed as one JSON line on stdout, for the test to read:
  {"event": "claimed", "job_id": ...}      {"event": "refused", "call": "heartbeat", "status": 409, ...}
  {"event": "completed", "job_id": ..., "sha256": ..., "tarball": ...}      {"event": "failed", ...}
"""
import argparse
import hashlib
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request


def log(event, **fields):
    print(json.dumps({"event": event, "at": time.time(), **fields}), flush=True)


class Api:
    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, body=None, data=None, headers=None, timeout=10):
        """One request; returns (status, parsed JSON or None). urllib labels a body without a type as a form: this daemon, like
        the earlier one, never set Content-Type on its JSON."""
        if body is not None:
            data = json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, {"error": raw.decode(errors="replace")}


def detect_capability(hostname):
    ram_bytes = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    ram_bytes = int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import torch  # noqa: F401  (absent here: the earlier worker then reported none)
        torch_version = torch.__version__
        cuda = bool(torch.cuda.is_available())
    except Exception:
        torch_version, cuda = None, False
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5).stdout.strip() or None
    except Exception:
        commit = None
    return {"hostname": hostname, "cores": os.cpu_count() or 1, "ram_gb": round(ram_bytes / 2**30, 1), "cuda": cuda,
            "vram_gb": 0, "torch_version": torch_version, "git_commit": commit, "os": platform.system()}


class Worker:
    def __init__(self, args):
        self.args = args
        self.api = Api(args.api)
        self.stopping = False
        self.capability = detect_capability(args.hostname or socket.gethostname())

    def claim(self):
        body = {"worker_id": self.args.worker_id, **self.capability}
        try:
            status, answer = self.api.call("POST", "/v1/job/claim", body=body, timeout=10)
        except (OSError, urllib.error.URLError) as e:
            log("claim_error", error=str(e))
            return None, 5
        if status != 200:
            log("refused", call="claim", status=status, answer=answer)
            return None, 5
        job = answer.get("job")
        if not job:
            return None, float(answer.get("retry_after_s") or 5)
        return job, 0

    def run(self):
        while not self.stopping:
            job, wait = self.claim()
            if job is None:
                time.sleep(wait)
                continue
            self.train(job)

    def train(self, job):
        job_id = job["job_id"]
        log("claimed", job_id=job_id, model=job.get("model"), mode=job.get("mode"))
        out = os.path.join(self.args.work, f"{job_id}-{int(time.time() * 1000)}")
        os.makedirs(out)
        hyper = job.get("hyper") if isinstance(job.get("hyper"), dict) else json.loads(job.get("hyper_json") or "{}")
        cmd = shlex.split(self.args.trainer) + [
            "--model", job["model"], "--mode", job["mode"], "--data", self.args.data, "--out", os.path.join(out, "model"),
            "--hyper", json.dumps(hyper), "--split", job.get("split_recipe") or "host",
            "--train-hosts", ",".join(job.get("train_hosts") or []), "--seed", str(job.get("seed") or 0)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        lost = threading.Event()

        def heartbeat():
            # Every 30 s (the earlier daemon's period), starting now; a 409 means the job is not ours any more.
            while proc.poll() is None and not lost.is_set():
                progress = lines[-1].strip() if lines else "starting"
                status, answer = self.api.call("POST", f"/v1/job/{job_id}/heartbeat",
                                               body={"worker_id": self.args.worker_id, "progress": progress})
                log("heartbeat", job_id=job_id, status=status)
                if status == 409:
                    log("refused", call="heartbeat", job_id=job_id, status=status, answer=answer)
                    lost.set()
                    proc.terminate()
                    return
                for _ in range(int(self.args.heartbeat_interval * 10)):
                    if proc.poll() is not None or lost.is_set():
                        return
                    time.sleep(0.1)

        beater = threading.Thread(target=heartbeat, daemon=True)
        beater.start()
        code = proc.wait()
        reader.join(5)
        beater.join(5)
        if lost.is_set():
            return
        if code != 0:
            error = "".join(lines[-20:]) or f"trainer exited with {code}"
            status, answer = self.api.call("POST", f"/v1/job/{job_id}/fail", body={"worker_id": self.args.worker_id, "error": error})
            log("failed", job_id=job_id, status=status, job_status=(answer or {}).get("status"))
            return
        tarball = os.path.join(out, "model.tar.gz")
        with tarfile.open(tarball, "w:gz") as tar:
            tar.add(os.path.join(out, "model"), arcname="model")
        sha = hashlib.sha256(open(tarball, "rb").read()).hexdigest()
        with open(tarball, "rb") as f:
            status, answer = self.api.call("PUT", f"/v1/model/{job_id}", data=f.read(), headers={"X-Sha256": sha}, timeout=120)
        if status != 200:
            log("refused", call="upload", job_id=job_id, status=status, answer=answer)
            return
        metrics = {}
        ckpt = os.path.join(out, "model", "ckpt.json")
        if os.path.exists(ckpt):
            with open(ckpt) as f:
                saved = json.load(f)
            metrics = {k: v for k, v in (saved.get("metrics") or {}).items() if isinstance(v, (int, float))}
        status, answer = self.api.call("POST", f"/v1/job/{job_id}/complete",
                                       body={"worker_id": self.args.worker_id, "sha256": sha, "metrics": metrics})
        if status != 200:
            log("refused", call="complete", job_id=job_id, status=status, answer=answer)
            return
        log("completed", job_id=job_id, sha256=sha, tarball=tarball, stored=answer.get("sha256"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", required=True)
    p.add_argument("--worker-id", required=True)
    p.add_argument("--hostname")
    p.add_argument("--trainer", required=True, help="the trainer command, e.g. 'dotnet Cis490.WorkerNode.dll train'")
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--heartbeat-interval", type=float, default=30.0)
    args = p.parse_args()
    os.makedirs(args.work, exist_ok=True)
    worker = Worker(args)

    def stop(signum, frame):  # SIGTERM-safe: finish the job in hand, claim no more
        worker.stopping = True
    signal.signal(signal.SIGTERM, stop)
    log("started", capability=worker.capability)
    worker.run()
    log("stopped")


if __name__ == "__main__":
    sys.exit(main())
