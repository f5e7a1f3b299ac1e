"""Rule-file benchmark: what the live taxonomy costs a request, and what a reload costs.

Run:  .venv/bin/python bench/bench_rules.py [--runs 2000]

1. The check every request and every suggestion makes (are the rule files unchanged? a stat
   of each): RuleFiles.current() and Suggester.reload_if_changed(), p50/p95 in microseconds.
2. Loading and checking every rule file (at start-up, and after an edit), in milliseconds;
   and the first request after an edit (reload included), through RuleFiles.current().
Prints figures; asserts nothing. Timings depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import percentile  # noqa: E402
from service.nlp import Suggester  # noqa: E402
from service.nlp.rule_files import RuleFiles, english_tokenizer  # noqa: E402
from service.nlp.taxonomy import TAXONOMY_FILE, load_rules  # noqa: E402
from service.settings import Settings  # noqa: E402


def timed(call, runs: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--models-dir", type=Path, default=Settings().models_dir)
    args = parser.parse_args()
    tokenizer = english_tokenizer()
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        shutil.copytree(args.models_dir, models)
        rule_files = RuleFiles.load(models, tokenizer)
        check = timed(rule_files.current, args.runs)
        print(f"unchanged check, RuleFiles.current()     p50 {percentile(check, 50) * 1e6:7.1f} µs"
              f"   p95 {percentile(check, 95) * 1e6:7.1f} µs   ({args.runs} runs)")
        loads = timed(lambda: load_rules(models, tokenizer), 10)
        print(f"load and check every rule file           p50 {percentile(loads, 50) * 1e3:7.1f} ms"
              f"   p95 {percentile(loads, 95) * 1e3:7.1f} ms   (10 runs)")
        path = models / TAXONOMY_FILE
        after_edit = []
        for n in range(10):
            stat = path.stat()
            os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000 * (n + 1)))
            start = time.perf_counter()
            rule_files.current()
            after_edit.append(time.perf_counter() - start)
        print(f"first check after an edit (reloads)      p50 {percentile(after_edit, 50) * 1e3:7.1f}"
              f" ms   p95 {percentile(after_edit, 95) * 1e3:7.1f} ms   (10 runs)")
        suggester = Suggester.load(models)
        reload = timed(suggester.reload_if_changed, args.runs)
        print(f"unchanged check, reload_if_changed()     p50 {percentile(reload, 50) * 1e6:7.1f} µs"
              f"   p95 {percentile(reload, 95) * 1e6:7.1f} µs   ({args.runs} runs)")


if __name__ == "__main__":
    main()
