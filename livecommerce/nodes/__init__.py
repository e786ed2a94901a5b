"""The nodes of a deployment: who runs, where it listens, whether it still beats."""
