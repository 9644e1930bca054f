#!/usr/bin/env python3
"""Drive a running server's searchServices with wrk, issue 18's cross-check of the bench.

Each request is a volunteer's question drawn at random from 40 texts (labels and synonyms
of the life domains in Dutch, French and English) x 60 postal codes (where the map has
locations) x 12 languages, asking for a result list:
searchServices(first: 20) { edges { score distanceKm node { id name } } }.

    socialmap seed --data-dir /tmp/map --synthetic 100000
    SOCIALMAP_REQUESTS_PER_MINUTE=0 socialmap serve --data-dir /tmp/map --listen 127.0.0.1:8098
    scripts/wrk_search.py --map /tmp/map/socialmap.sqlite --url http://127.0.0.1:8098/graphql

wrk comes from Debian (`apt-get install wrk`); the generated Lua script is printed with
--print-script. Runs a warm-up of --warm-up seconds, then the measured run.
"""

import argparse
import json
import pathlib
import random
import sqlite3
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
LANGUAGES = ["prs", "ar", "ti", "uk", "so", "fa", "ps", "tr", "ru", "fa-AF", "kmr", "nl"]
QUERY = (
    "query($input: ServiceSearchInput!) { searchServices(input: $input, first: 20) "
    "{ edges { score distanceKm node { id name } } } }"
)


def texts(rng):
    words = []
    for domain in json.loads((ROOT / "seed/data/life-domains.json").read_text()):
        for lang in ("nl", "fr", "en"):
            words.append(domain["labels"][lang])
            words.extend(domain.get("synonyms", {}).get(lang, []))
    return rng.sample(sorted(set(words)), 40)


def postal_codes(rng, map_file):
    with sqlite3.connect(map_file) as db:
        codes = [row[0] for row in db.execute("SELECT DISTINCT postal_code FROM location ORDER BY 1")]
    return rng.sample(codes, min(60, len(codes)))


def lua_list(values):
    return "{" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "}"


def script(rng, map_file):
    return f"""
local texts = {lua_list(texts(rng))}
local codes = {lua_list(postal_codes(rng, map_file))}
local languages = {lua_list(LANGUAGES)}
local query = {json.dumps(QUERY)}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local function quote(s)
  return '"' .. s:gsub('\\\\', '\\\\\\\\'):gsub('"', '\\\\"') .. '"'
end
request = function()
  local text = texts[math.random(#texts)]
  local code = codes[math.random(#codes)]
  local language = languages[math.random(#languages)]
  local body = '{{"query":' .. quote(query) .. ',"variables":{{"input":{{"text":' .. quote(text)
    .. ',"near":{{"postalCode":"' .. code .. '"}},"languages":["' .. language .. '"]}}}}}}'
  return wrk.format(nil, nil, nil, body)
end
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--map", required=True, help="the server's SQLite file, for postal codes")
    parser.add_argument("--url", default="http://127.0.0.1:8098/graphql")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--warm-up", type=int, default=5)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--print-script", action="store_true")
    args = parser.parse_args()
    lua = script(random.Random(args.seed), args.map)
    if args.print_script:
        print(lua)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as file:
        file.write(lua)
        file.flush()
        wrk = ["wrk", f"-t{args.threads}", f"-c{args.connections}", "--latency", "-s", file.name]
        if args.warm_up > 0:
            subprocess.run(wrk[:3] + [f"-d{args.warm_up}s", "-s", file.name, args.url], check=True, capture_output=True)
        subprocess.run(wrk + [f"-d{args.seconds}s", args.url], check=True)


if __name__ == "__main__":
    main()
