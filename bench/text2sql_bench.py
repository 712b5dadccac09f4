"""Text2SQL benchmark: execution accuracy of the pipeline against the raw-prompt baseline with Qwen2.5-Coder-0.5B.

``make bench-text2sql`` (after ``make qwen``) runs it: a home of its own (``.rivulet/bench-text2sql``, the embedded
PostgreSQL with the sample data source ``shop``), the GGUF configured as the local_llamacpp model ``qwen``, then

    rivulet eval text2sql backend/src/rivulet/data/samples/shop_text2sql.jsonl --datasource shop --model qwen

and a summary: pipeline and baseline execution accuracy, the difference, each failure (question, gold SQL, the
SQL written, the error), the time. The report is kept in ``.rivulet/bench-text2sql/report.json``. Without the
model (``make qwen`` not run) it says so and exits 0, so ``make bench`` still runs the other benchmarks.

    python bench/text2sql_bench.py [--limit N] [--every N] [--max-repairs N] [--threads N]

On a busy machine ``--threads 1`` is much faster than llama.cpp's default of every core (its threads spin while
they wait for each other); ``--every 3`` takes every third question (19 of 56, easy to hard).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "qwen" / "qwen2.5-coder-0.5b-instruct.gguf"
DATASET = ROOT / "backend" / "src" / "rivulet" / "data" / "samples" / "shop_text2sql.jsonl"
HOME = ROOT / ".rivulet" / "bench-text2sql"
RIVULET = Path(sys.executable).parent / "rivulet"


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run([str(RIVULET), *args], env=env, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"text2sql_bench: `rivulet {' '.join(args[:3])} ...` failed ({done.returncode})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--every", type=int, default=1, help="every Nth question (a subset across easy to hard)")
    parser.add_argument("--max-repairs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    parser.add_argument("--n-ctx", type=int, default=4096)
    args = parser.parse_args()
    if not MODEL.is_file():
        print(f"text2sql_bench: skipped, {MODEL.relative_to(ROOT)} is missing (run `make qwen` first)")
        return 0
    HOME.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RIVULET_HOME": str(HOME),
        "RIVULET_MODEL_DIRS": str(MODEL.parent),
        "RIVULET_LOG_LEVEL": os.environ.get("RIVULET_LOG_LEVEL", "warning"),
        "RIVULET_ADMIN_PASSWORD": os.environ.get("RIVULET_ADMIN_PASSWORD", secrets.token_urlsafe(24)),  # never printed
    }
    params = ["--param", f"n_ctx={args.n_ctx}"]
    if args.threads:
        params += ["--param", f"n_threads={args.threads}"]
    _run(
        ["models", "add", "qwen", "--provider", "local_llamacpp", "--model-path", str(MODEL), *params,
         "--timeout", "600", "--concurrency", "1", "--description", "Qwen2.5-Coder-0.5B-Instruct (benchmarks only)"],
        env,
    )  # fmt: skip
    report = HOME / "report.json"
    dataset = DATASET
    if args.every > 1:
        lines = DATASET.read_text(encoding="utf-8").splitlines()
        dataset = HOME / f"shop_text2sql.every{args.every}.jsonl"
        dataset.write_text("".join(line + "\n" for line in lines[:: args.every]), encoding="utf-8")
    command = [
        str(RIVULET), "eval", "text2sql", str(dataset), "--datasource", "shop", "--model", "qwen",
        "--max-repairs", str(args.max_repairs), "--output", str(report), "--name", "bench-text2sql",
    ]  # fmt: skip
    if args.limit:
        command += ["--limit", str(args.limit)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or not report.is_file():
        print(f"text2sql_bench: the evaluation failed (exit {done.returncode})", file=sys.stderr)
        return 1
    record = json.loads(report.read_text())
    summary, items = record["summary"], record["items"]
    total = summary["total"]
    pipeline, baseline = summary["passed"], summary.get("baseline_passed", 0)
    print()
    print("== failures of the pipeline")
    for item in items:
        if item["passed"]:
            continue
        d = item["details"]
        print(f"#{item['index'] + 1} {d.get('question', '')}")
        print(f"   gold:     {d.get('gold', '')}")
        print(f"   pipeline: {d.get('sql') or '-'}  (repairs {d.get('repairs', 0)})")
        if item.get("error") or d.get("error"):
            print(f"   error:    {(item.get('error') or d.get('error'))[:300]}")
        print(f"   baseline: {'pass' if d.get('baseline_match') else 'fail'}  {d.get('baseline_sql') or '-'}")
    print()
    print(f"questions:          {total}")
    print(f"pipeline EX:        {pipeline}/{total} = {100 * pipeline / total:.1f}%")
    print(f"baseline EX:        {baseline}/{total} = {100 * baseline / total:.1f}%")
    print(f"difference:         {100 * (pipeline - baseline) / total:+.1f} points (target: +15)")
    print(f"fixed by repair:    {summary.get('repaired', 0)}")
    print(f"baseline only:      {sum(1 for i in items if not i['passed'] and i['details'].get('baseline_match'))}")
    print(f"time:               {elapsed:.0f} s ({elapsed / max(total, 1):.1f} s a question, both answers)")
    print(f"report:             {report.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
