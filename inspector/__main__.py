import sys

# Guarded: the runtime's child processes are spawned and re-import the main module; they
# need none of the command line. A Ctrl-C while the CLI is still importing ends quietly.
if __name__ == "__main__":
    try:
        from inspector.cli import main

        main()
    except KeyboardInterrupt:
        sys.exit(130)
