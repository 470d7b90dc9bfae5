"""`python -m kcli` runs the root command (used by tests and the harness)."""

from kcli.cli import main

if __name__ == "__main__":
    main()
