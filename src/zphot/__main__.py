"""``python -m zphot``: the ``zphot`` command, for environments without the console script."""

from .cli.app import main

if __name__ == "__main__":
    main()
