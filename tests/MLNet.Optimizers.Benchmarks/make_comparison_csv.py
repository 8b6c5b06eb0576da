"""Writes the seeded 200,000 x 30 binary CSV used to time the main job (docs/comparison.md, docs/performance.md).

Usage: python3 make_comparison_csv.py OUT.csv [ROWS]. Features are standard normal, the label (column `target`, 0/1) is
drawn from a logistic model with fixed random weights, so the same arguments always give the same file.
"""
import math
import random
import sys

FEATURES = 30
path = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
hidden = random.Random(5)
weights = [hidden.gauss(0, 1) * 2 / math.sqrt(FEATURES) for _ in range(FEATURES)]
rng = random.Random(21)
with open(path, "w", encoding="ascii") as out:
    out.write(",".join(f"x{j}" for j in range(FEATURES)) + ",target\n")
    for _ in range(rows):
        x = [rng.gauss(0, 1) for _ in range(FEATURES)]
        score = sum(w * v for w, v in zip(weights, x))
        label = 1 if rng.random() < 1 / (1 + math.exp(-score)) else 0
        out.write(",".join(f"{v:.6f}" for v in x) + f",{label}\n")
