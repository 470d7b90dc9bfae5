"""Public test harness: start kcli's servers as real processes on free loopback ports in temp
dirs, stop or kill them by PID. Used by tests, labs and benchmarks."""
