"""Galaxies per second of ``est.predict`` (point estimates only, in memory) for the default MLP.

    python benchmarks/mlp_predict.py [--rows 1000000] [--repeats 3] [--out FILE]

Issue 6 asks the MLP to sustain 200,000 galaxies/s for point estimates on 2 cores. The default
``mlp`` is trained on the built-in DC2 training catalog (seed 0; a few seconds, so never cached
and never stale) and predicts the first ``--rows`` rows of the 6-band catalog of
``benchmarks/throughput.py``, held in memory, in one ``est.predict`` call per repeat, with this
process pinned to 2 cores (torch uses 2 threads). The stages of that call are timed too
(inputs, forward pass, summary), and the older route through the PDF array
(``predict_pdf(...).point()``) for comparison. Timings are the best of ``--repeats`` (the
machine may be shared: the load average is recorded).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from throughput import make_catalog, pin, provenance, thread_env  # noqa: E402


def timed(fn, repeats: int) -> tuple[list[float], object]:  # noqa: ANN001
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return times, value


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/zphot-bench"))
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args(argv[1:])
    os.environ.update(thread_env())
    pin()

    import numpy as np
    import pyarrow.parquet as pq
    import torch

    import zphot
    from zphot.catalog import Catalog
    from zphot.datasets import builtin_path
    from zphot.estimators.base import PhotoZEstimator
    from zphot.estimators.nn.network import SUMMARY_ROWS, Member
    from zphot.estimators.nn.summary import summarise_probs
    from zphot.estimators.nn.train import INFERENCE_BLOCK, forward_rows

    args.workdir.mkdir(parents=True, exist_ok=True)
    source = make_catalog(args.workdir / f"dc2x_{args.rows}.parquet", args.rows)
    train = zphot.read_catalog(builtin_path("dc2-train"), "lsst")
    est = zphot.get_estimator("mlp", random_state=0).fit(train)
    cat = Catalog(pq.read_table(source).to_pandas(), est.survey_, str(source))
    n = len(cat)
    kind = est.get_params()["point"]
    print(f"{n:,} rows, {est.grid_.n_bins} bins, point={kind}", file=sys.stderr)

    def rate(times: list[float]) -> dict:
        return {
            "best_s": round(min(times), 3),
            "median_s": round(statistics.median(times), 3),
            "galaxies_per_s": round(n / min(times)),
            "us_per_row": round(min(times) / n * 1e6, 3),
        }

    out: dict = {"measured": provenance(argv), "rows": n, "grid_bins": est.grid_.n_bins}
    out["torch_threads"] = torch.get_num_threads()
    times, z = timed(lambda: est.predict(cat), args.repeats)
    out["predict"] = rate(times)
    # The same call's stages, as TorchEstimator._summary runs them.
    stages: dict[str, float] = {}
    times, x = timed(lambda: est._inputs(cat), args.repeats)
    stages["inputs"] = min(times)
    times, _ = timed(lambda: est.preprocessing_.complete_magnitudes(cat), args.repeats)
    stages["valid_rows"] = min(times)
    member = Member(*est.members_[0])
    invalid = torch.zeros(n, dtype=torch.bool)
    torch.set_num_threads(2)
    best = {"forward": np.inf, "softmax_and_summary": np.inf}
    for _ in range(args.repeats):  # block by block, as TorchEstimator._summary goes
        spent = dict.fromkeys(best, 0.0)
        for start in range(0, n, INFERENCE_BLOCK):
            t0 = time.perf_counter()
            logits = forward_rows(member, x[start : start + INFERENCE_BLOCK])
            t1 = time.perf_counter()
            for lo in range(0, len(logits), SUMMARY_ROWS):
                p = torch.softmax(logits[lo : lo + SUMMARY_ROWS].double(), dim=1)
                summarise_probs(p, invalid[: len(p)], est.grid_, kind)
            spent["forward"] += t1 - t0
            spent["softmax_and_summary"] += time.perf_counter() - t1
        best = {k: min(v, spent[k]) for k, v in best.items()}
    stages |= best
    out["stages_us_per_row"] = {k: round(v / n * 1e6, 3) for k, v in stages.items()}
    # The route through the PDF array, on a tenth of the rows (it is slower and memory-hungry).
    part = cat.take(np.arange(min(n, 100_000)))
    times, z_pdf = timed(lambda: PhotoZEstimator._summary(est, part, kind)[0], 1)
    out["pdf_route"] = {
        "rows": len(part),
        "galaxies_per_s": round(len(part) / times[0]),
        "max_abs_difference": float(np.abs(z_pdf - z[: len(part)]).max()),
    }
    out["measured"]["machine"]["load_average_at_end"] = os.getloadavg()
    text = json.dumps(out, indent=1, default=float)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return out


if __name__ == "__main__":
    main(sys.argv)
