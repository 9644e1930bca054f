#!/usr/bin/env bash
# Soak: a release build of socialmap under a mixed read/write load for 10 minutes (after a
# 30 s warm-up). Fails on any failed request, memory growth over 10% or an unclean exit.
# Extra arguments go to `socialmap-load soak`, e.g. --minutes 1 or
# --postgres postgres://postgres@127.0.0.1:5432/postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p api -p socialmap-load
exec target/release/socialmap-load soak "$@"
