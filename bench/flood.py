"""Flood a fresh `leadline serve` with large unauthenticated webhook posts (see bench/flood)."""
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter


def memory(pid):
    status = open(f"/proc/{pid}/status").read()
    kib = lambda key: int(re.search(rf"{key}:\s+(\d+)", status).group(1))
    return kib("VmHWM") // 1024, kib("VmRSS") // 1024


def flood(binary, posts, signature):
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, LEADLINE_GITHUB_WEBHOOK_SECRET="bench-secret")
        server = subprocess.Popen(
            [binary, "--db", f"{d}/flood.db", "serve", "--addr", "127.0.0.1:0"],
            env=env, stderr=subprocess.PIPE, text=True)
        address = next(l for l in server.stderr if "listening on" in l).split("http://")[1].strip()
        host, port = address.split(":")
        idle, _ = memory(server.pid)
        body = b'{"x":"' + b"a" * (25 * 1024 * 1024 - 10) + b'"}'
        answers = []

        def post():
            headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "flood"}
            if signature:
                headers["X-Hub-Signature-256"] = signature
            c = http.client.HTTPConnection(host, int(port), timeout=120)
            try:
                c.request("POST", "/webhooks/github", body=body, headers=headers)
                answers.append(c.getresponse().status)
            except OSError as e:  # the server answered and closed before the body was sent
                answers.append(type(e).__name__)

        started = time.time()
        threads = [threading.Thread(target=post) for _ in range(posts)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        peak, after = memory(server.pid)
        server.terminate()
        server.wait()
        return idle, peak, after, Counter(answers), time.time() - started


binary, posts = sys.argv[1], int(sys.argv[2])
for name, signature in [("no signature", None), ("wrong signature", "sha256=" + "0" * 64)]:
    idle, peak, after, answers, secs = flood(binary, posts, signature)
    print(f"{posts} x 25 MiB, {name}: answers {dict(answers)} in {secs:.1f} s; "
          f"peak RSS {peak} MiB = {peak / idle:.1f}x idle ({idle} MiB), {after} MiB after")
