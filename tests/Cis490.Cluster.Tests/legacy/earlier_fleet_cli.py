#!/usr/bin/env python3
"""The earlier fleet's operator CLI (cis490_jobs), written from what is known of it: status / list / show / cancel / requeue /
reload / workers over /v1, stdlib HTTP only, cancel and requeue (and reload) with $CIS490_OPERATOR_TOKEN in X-Operator-Token.
It prints the server's JSON answer and exits 0 on a 2xx, 1 otherwise -- as a script around it would use it.

  earlier_fleet_cli.py --api URL status | list [--status S] | show JOB | cancel JOB [--reason R] | requeue JOB | reload [FILE] | workers
"""
import argparse
import json
import os
import sys
import urllib.error
import urllib.request


def call(api, method, path, data=None, token=False):
    headers = {}
    if token:
        headers["X-Operator-Token"] = os.environ.get("CIS490_OPERATOR_TOKEN", "")
    req = urllib.request.Request(api.rstrip("/") + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--api", required=True)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("status")
    ls = sub.add_parser("list")
    ls.add_argument("--status")
    for name in ("show", "requeue"):
        sub.add_parser(name).add_argument("job")
    cancel = sub.add_parser("cancel")
    cancel.add_argument("job")
    cancel.add_argument("--reason", default="cancelled by cis490_jobs")
    reload = sub.add_parser("reload")
    reload.add_argument("file", nargs="?")
    sub.add_parser("workers")
    a = p.parse_args()

    if a.cmd == "status":
        status, body = call(a.api, "GET", "/v1/health")
    elif a.cmd == "list":
        status, body = call(a.api, "GET", "/v1/jobs" + (f"?status={a.status}" if a.status else ""))
    elif a.cmd == "show":
        status, body = call(a.api, "GET", f"/v1/job/{a.job}")
    elif a.cmd == "cancel":
        status, body = call(a.api, "POST", f"/v1/job/{a.job}/cancel", json.dumps({"reason": a.reason}).encode(), token=True)
    elif a.cmd == "requeue":
        status, body = call(a.api, "POST", f"/v1/job/{a.job}/requeue", b"", token=True)
    elif a.cmd == "reload":
        data = open(a.file, "rb").read() if a.file else b""
        status, body = call(a.api, "POST", "/v1/manifest/reload", data, token=True)
    else:
        status, body = call(a.api, "GET", "/v1/workers")
    print(body)
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
