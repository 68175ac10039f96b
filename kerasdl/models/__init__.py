"""One module per model family; importing a module registers its models."""
