"""``python -m rainforest``: the command-line interface."""

from rainforest.cli import main

if __name__ == "__main__":
    main()
