from inspector.cli import main

# Guarded: the recorder's child process is spawned and re-imports the main module.
if __name__ == "__main__":
    main()
