#!/usr/bin/env python3
"""Connect and login throughput of vdi-broker.

Starts a broker on a fresh data directory with its demo pool (reference
guest desktops kept warm), adds a few users, logs each in and gives each a
desktop, then:

- connects: CLIENTS threads at once POST /api/v1/pools/demo/connect for
  those users (each a new TLS connection, a fresh one-time secret set on the
  user's running desktop through its control socket), for DURATION seconds;
  prints connects per second and latency p50/p99;
- logins: CLIENTS threads log users in (argon2id verification) for DURATION
  seconds; prints logins per second and latency p50/p99.

usage: bench/broker_load.py [--build DIR] [--clients N] [--seconds S] [--json FILE]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

USERS = 2  # the demo pool gives one desktop per user and keeps up to 4 VMs


# One TLS context for every request: making one per request (loading the
# system's CA bundle each time) would measure Python, not the broker.
CTX = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE


def request(port, method, path, body=None, token=None):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=CTX, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def hammer(n_clients, seconds, fn):
    """Run fn() from n_clients threads for seconds; returns (ok latencies, failures)."""
    lat, failures = [], [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker():
        while time.monotonic() < end:
            t0 = time.monotonic()
            ok = fn()
            dt = time.monotonic() - t0
            with lock:
                if ok:
                    lat.append(dt)
                else:
                    failures[0] += 1

    with concurrent.futures.ThreadPoolExecutor(n_clients) as ex:
        for f in [ex.submit(worker) for _ in range(n_clients)]:
            f.result()
    return lat, failures[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--json")
    args = ap.parse_args()
    broker = os.path.join(args.build, "broker/vdi-broker")
    if not os.access(broker, os.X_OK):
        sys.exit(f"bench: {broker} not built")
    tmp = tempfile.mkdtemp(prefix="vdi-bench-broker-")
    log = open(os.path.join(tmp, "broker.out"), "w+")
    cmd = [broker, "--data-dir", os.path.join(tmp, "var"), "--listen", "127.0.0.1:0",
           "--log-level", "warn", "--vmm", os.path.join(args.build, "vmm/vdi-vmm"),
           "--guest", os.path.join(args.build, "vmm/guest/vdi-guest.elf")]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            log.seek(0)
            m = re.search(r"serving https://127\.0\.0\.1:(\d+)/", log.read())
            port = int(m.group(1)) if m else None
            time.sleep(0.1)
        if port is None:
            sys.exit("bench: the broker did not start")
        users = [f"bench{i}" for i in range(USERS)]
        for u in users:
            subprocess.run([broker, "--data-dir", os.path.join(tmp, "var"), "user", "add", u,
                            "--group", "users", "--password-stdin"],
                           input=f"{u} password\n", text=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tokens = []
        for u in users:
            st, data = request(port, "POST", "/api/v1/login",
                               {"user": u, "password": f"{u} password"})
            tokens.append(json.loads(data)["token"])
        # Warm: every user holds a running desktop before timing starts.
        for t in tokens:
            for _ in range(240):
                st, _ = request(port, "POST", "/api/v1/pools/demo/connect", {"protocol": "vnc"}, t)
                if st == 200:
                    break
                time.sleep(0.5)
            else:
                sys.exit("bench: no desktop came up")
        counter = [0]

        def one_connect():
            counter[0] += 1
            st, _ = request(port, "POST", "/api/v1/pools/demo/connect", {"protocol": "vnc"},
                            tokens[counter[0] % len(tokens)])
            return st == 200

        def one_login():
            counter[0] += 1
            u = users[counter[0] % len(users)]
            st, _ = request(port, "POST", "/api/v1/login", {"user": u, "password": f"{u} password"})
            return st == 200

        res = {}
        for name, fn in (("connect", one_connect), ("login", one_login)):
            lat, failed = hammer(args.clients, args.seconds, fn)
            res[name] = {"per_second": len(lat) / args.seconds, "ok": len(lat), "failed": failed,
                         "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000}
            r = res[name]
            print(f"{name:8s} {args.clients} clients {args.seconds:.0f} s: {r['per_second']:.1f}/s "
                  f"({r['ok']} ok, {r['failed']} failed), latency p50 {r['p50_ms']:.0f} ms "
                  f"p99 {r['p99_ms']:.0f} ms")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        subprocess.run(["pkill", "-KILL", "-f", "--", f"--control {tmp}/var/run/"], check=False)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
