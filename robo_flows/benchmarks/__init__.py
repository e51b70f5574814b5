"""Side-by-side benchmarks (each prints a table of ratios and writes JSON)."""
