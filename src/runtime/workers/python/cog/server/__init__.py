"""The kiln worker side of the server <-> worker protocol (src/runtime/protocol.ts) for Python predictors."""
