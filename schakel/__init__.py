"""The `schakel` command: thin shell over the indexer, matcher and web packages."""
