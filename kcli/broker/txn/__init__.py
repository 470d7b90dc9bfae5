"""Producer ids (producer_id_manager.py) and idempotent-producer state (producer_state.py);
the transaction coordinator comes later."""
