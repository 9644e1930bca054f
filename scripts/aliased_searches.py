#!/usr/bin/env python3
# Usage: scripts/aliased_searches.py PORT ALIASES [SECONDS] against a running `socialmap serve`
# (with SOCIALMAP_REQUESTS_PER_MINUTE=0, else the rate limit refuses the flood first).
# Ordinary search latency while 4 clients send requests of many aliased searches.
import json, sys, threading, time, http.client
HOST, PORT = "127.0.0.1", int(sys.argv[1])
ALIASES = int(sys.argv[2])
SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 30
def post(conn, query):
    conn.request("POST", "/graphql", json.dumps({"query": query}), {"content-type": "application/json"})
    r = conn.getresponse(); body = r.read(); return r.status, body
heavy = "{ " + " ".join(f's{i}: searchServices(input: {{ text: "huur woning" }}, first: 1) {{ totalCount }}' for i in range(ALIASES)) + " }"
ordinary = '{ searchServices(input: { text: "huurcontract", near: { postalCode: "9300" }, languages: ["prs"] }, first: 20) { totalCount edges { score distanceKm node { name } } } }'
stop = time.time() + SECONDS
heavy_done = [0]; heavy_refused = [0]
def flood():
    c = http.client.HTTPConnection(HOST, PORT)
    while time.time() < stop:
        st, body = post(c, heavy)
        heavy_done[0] += 1
        if b"TOO_MANY_SEARCHES" in body: heavy_refused[0] += 1
threads = [threading.Thread(target=flood) for _ in range(4 if ALIASES else 0)]
for t in threads: t.start()
time.sleep(1)
c = http.client.HTTPConnection(HOST, PORT); lat = []
while time.time() < stop:
    t0 = time.perf_counter(); st, body = post(c, ordinary); lat.append((time.perf_counter() - t0) * 1000)
    assert st == 200 and b'"errors"' not in body, body[:300]
for t in threads: t.join()
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(f"aliases={ALIASES} heavy requests={heavy_done[0]} refused={heavy_refused[0]} ordinary n={len(lat)} p50={q(0.5):.1f} ms p95={q(0.95):.1f} ms p99={q(0.99):.1f} ms max={lat[-1]:.1f} ms")
