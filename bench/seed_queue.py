#!/usr/bin/env python3
"""A seed-style claim queue, the baseline `./cis490 bench coordinator` measures our leases against (issue 17).

The earlier fleet's claim path as issue 15 describes it: jobs in one SQLite table with the statuses
pending|claimed|running|completed|failed|cancelled; a claim is one atomic `UPDATE ... WHERE status='pending'`; a threaded
Python HTTP server (http.server.ThreadingHTTPServer) answers POST /v1/job/claim and POST /v1/job/{id}/fail; workers are
threads with one keep-alive http.client connection each, over loopback.

Durability is the same as our SQLite journal's (hocon/persistence-sqlite.conf): WAL, `PRAGMA synchronous = FULL` on every
connection, every claim and every fail its own commit (one fsync each), as our journal fsyncs every commit.

Each worker does what our bench's fake workers do: claim, then fail the job at once (max_attempts = 1, so a failed job
is never claimed again), until a claim finds no job. Stdlib only. Prints one parseable line:

    seed_queue claims=2000 seconds=3.05 claims_per_s=656 workers=8 sqlite=3.40.1 journal_mode=wal synchronous=2
"""
import argparse
import http.client
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCHEMA = """
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  priority INTEGER NOT NULL DEFAULT 0,
  status TEXT NOT NULL CHECK (status IN ('pending','claimed','running','completed','failed','cancelled')),
  worker_id TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 1,
  claimed_at REAL,
  heartbeat_at REAL,
  finished_at REAL,
  error TEXT
);
CREATE INDEX jobs_pending ON jobs (status, priority DESC, id);
"""

# One UPDATE per claim, atomic: the job it takes is pending when the row is written (SQLite serialises writers).
CLAIM = """
UPDATE jobs SET status = 'claimed', worker_id = ?, attempts = attempts + 1, claimed_at = ?, heartbeat_at = ?
WHERE id = (SELECT id FROM jobs WHERE status = 'pending' ORDER BY priority DESC, id LIMIT 1) AND status = 'pending'
RETURNING id, attempts
"""

FAIL = """
UPDATE jobs SET status = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
  worker_id = NULL, finished_at = ?, error = ?
WHERE id = ? AND worker_id = ? AND status IN ('claimed', 'running')
"""


def connect(path):
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)  # autocommit: one commit per statement
    db.execute("PRAGMA synchronous = FULL")  # per connection, like SqliteDurability.cs
    return db


def make_db(path, jobs):
    db = connect(path)
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    db.executescript(SCHEMA)
    db.execute("BEGIN")
    db.executemany("INSERT INTO jobs (id, status) VALUES (?, 'pending')", ((f"job-{i:07d}",) for i in range(jobs)))
    db.execute("COMMIT")
    sync = db.execute("PRAGMA synchronous").fetchone()[0]
    db.close()
    return mode, sync


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # Headers and body leave in one write (answer()) and without Nagle's delay: otherwise a small second write waits for
    # the client's delayed ACK (~40 ms) and the baseline would measure TCP timers instead of the queue.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def db(self):
        local = self.server.local
        if not hasattr(local, "db"):
            local.db = connect(self.server.path)
        return local.db

    def answer(self, code, body):
        data = json.dumps(body).encode()
        head = f"HTTP/1.1 {code} {self.responses[code][0]}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        self.wfile.write(head.encode() + data)  # one write: see disable_nagle_algorithm

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        parts = self.path.strip("/").split("/")
        now = time.time()
        if parts == ["v1", "job", "claim"]:
            row = self.db().execute(CLAIM, (request["worker_id"], now, now)).fetchone()
            self.answer(200, {"job": None} if row is None else {"job": {"job_id": row[0], "attempt": row[1]}})
        elif len(parts) == 4 and parts[:2] == ["v1", "job"] and parts[3] == "fail":
            changed = self.db().execute(FAIL, (now, request.get("error", ""), parts[2], request["worker_id"])).rowcount
            self.answer(200 if changed else 409, {"ok": bool(changed)})
        else:
            self.answer(404, {"error": f"no route {self.path}"})


def worker(port, name, counter, lock, errors):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}
    try:
        while True:
            conn.request("POST", "/v1/job/claim", json.dumps({"worker_id": name}), headers)
            job = json.loads(conn.getresponse().read())["job"]
            if job is None:
                return
            with lock:
                counter[0] += 1
            conn.request("POST", f"/v1/job/{job['job_id']}/fail",
                         json.dumps({"worker_id": name, "error": "bench: fails at once"}), headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"fail of {job['job_id']} answered {response.status}")
    except Exception as e:  # noqa: BLE001 - reported by the main thread
        errors.append(f"{name}: {e!r}")
    finally:
        conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs in the queue (each is claimed once)")
    parser.add_argument("--workers", type=int, default=8, help="worker threads, one keep-alive connection each")
    parser.add_argument("--dir", default=None, help="where the SQLite file goes (default: a fresh temporary directory)")
    args = parser.parse_args()
    if args.jobs < 1 or args.workers < 1:
        parser.error("--jobs and --workers must be at least 1")

    root = tempfile.mkdtemp(prefix="seed-queue-", dir=args.dir)
    try:
        path = os.path.join(root, "queue.db")
        mode, sync = make_db(path, args.jobs)
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.path = path
        server.local = threading.local()
        threading.Thread(target=server.serve_forever, daemon=True).start()

        counter, lock, errors = [0], threading.Lock(), []
        threads = [threading.Thread(target=worker, args=(server.server_address[1], f"seed-worker-{w}", counter, lock, errors))
                   for w in range(args.workers)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - start
        server.shutdown()

        if errors:
            print(f"seed_queue: a worker failed: {errors[0]}", file=sys.stderr)
            return 1
        if counter[0] != args.jobs:
            print(f"seed_queue: {counter[0]} claims for {args.jobs} jobs", file=sys.stderr)
            return 1
        print(f"seed_queue claims={counter[0]} seconds={seconds:.3f} claims_per_s={counter[0] / seconds:.0f} "
              f"workers={args.workers} sqlite={sqlite3.sqlite_version} journal_mode={mode} synchronous={sync}", flush=True)
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
