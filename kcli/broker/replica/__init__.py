"""Partition replicas: ReplicaManager (manager.py), Partition (partition.py), the purgatory for
waiting requests (purgatory.py), the controller's partition states (state.py), Kafka's ISR and
high-watermark rules (isr.py), follower fetchers (fetcher.py, with truncation.py,
fetch_request.py and broker_client.py) and the periodic storage passes (log_tasks.py)."""
