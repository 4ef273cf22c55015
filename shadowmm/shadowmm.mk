# shadowmm/: nothing yet (the shadow MMU and benchmarks come in later issues).
