"""Partition replicas: ReplicaManager (manager.py), Partition (partition.py), the purgatory for
waiting requests (purgatory.py) and the controller's partition states (state.py)."""
