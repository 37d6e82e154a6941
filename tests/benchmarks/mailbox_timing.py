"""Benchmark: how long the mailbox takes to refuse, by reason, side by side.

A stranger who knows a case number must not learn from the answer or its timing whether the
case exists, whether the key was wrong or whether they were rate-limited. This runs the real
service on SQLite with the real scrypt parameters and prints the median and p90 time of each
refusal and of a right key, and the largest median's distance from the smallest (the target
is within 10 %).

Usage, from the repository root:

    python tests/benchmarks/mailbox_timing.py --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bot import migrate  # noqa: E402
from bot.audit import AuditTrail  # noqa: E402
from bot.config import ReportsSettings  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.keys import Keyring, generate_key, parse_key  # noqa: E402
from bot.reports.service import Intake, Reports  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.sqlite3'}")
        migrate.upgrade(database)
        keyring = Keyring(parse_key(generate_key()))
        reports = Reports(database, keyring, AuditTrail(keyring),
                          ReportsSettings(key_checks_per_person=5), ())
        receipt = reports.submit(Intake(category="other", lang="ja", what="ベンチマーク"))
        wrong = "AAAA-BBBB-CCCC-DDDD-EEEE"
        for _ in range(5):  # this person is now over the limit
            reports.open_as_reporter("R-23456789", wrong, "bench:limited")
        cases = {
            "right_key": (receipt.case_number, receipt.secret_key, "bench:reporter"),
            "wrong_key": (receipt.case_number, wrong, "bench:a"),
            "unknown_case": ("R-23456789", wrong, "bench:b"),
            "malformed": ("not a case", wrong, "bench:c"),
            "rate_limited": (receipt.case_number, receipt.secret_key, "bench:limited"),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for round_number in range(args.rounds):
            for name, (number, key, who) in cases.items():
                # Each person stays under the limit except the limited one.
                who = who if name == "rate_limited" else f"{who}:{round_number}"
                start = time.perf_counter()
                reports.open_as_reporter(number, key, who)
                times[name].append(time.perf_counter() - start)
        database.dispose()
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    refusals = [medians[n] for n in ("wrong_key", "unknown_case", "malformed", "rate_limited")]
    result = {
        "rounds": args.rounds,
        "median_ms": {name: round(value, 1) for name, value in medians.items()},
        "p90_ms": {name: round(sorted(v)[int(0.9 * len(v))] * 1000, 1)
                   for name, v in times.items()},
        "refusal_spread": round(max(refusals) / min(refusals) - 1, 3),
        "target_spread": 0.10,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for name, value in result["median_ms"].items():
            print(f"{name:14} median {value:7.1f} ms   p90 {result['p90_ms'][name]:7.1f} ms")
        print(f"refusals: largest median {100 * result['refusal_spread']:.1f}% above smallest")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
