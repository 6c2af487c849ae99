"""A toy family that lives outside deepedge: a registry entry and this folder are all it takes."""
