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
import json
import os
import sys
import threading
import time

from benchlib import Broker, api, percentile

USERS = 2  # the demo pool gives one desktop per user and keeps up to 4 VMs


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
    if not os.access(os.path.join(args.build, "broker/vdi-broker"), os.X_OK):
        sys.exit(f"bench: {args.build}/broker/vdi-broker not built")
    broker = Broker(args.build)
    port = broker.port
    try:
        users = [f"bench{i}" for i in range(USERS)]
        for u in users:
            broker.add_user(u, f"{u} password")
        tokens = [broker.login(u, f"{u} password") for u in users]
        # Warm: every user holds a running desktop before timing starts.
        for t in tokens:
            broker.connect(t, "demo", "vnc")
        counter = [0]

        def one_connect():
            counter[0] += 1
            st, _ = api(port, "POST", "/api/v1/pools/demo/connect", {"protocol": "vnc"},
                        tokens[counter[0] % len(tokens)])
            return st == 200

        def one_login():
            counter[0] += 1
            u = users[counter[0] % len(users)]
            st, _ = api(port, "POST", "/api/v1/login", {"user": u, "password": f"{u} password"})
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
        broker.stop()


if __name__ == "__main__":
    main()
