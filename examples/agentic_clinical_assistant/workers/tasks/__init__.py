"""Tasks, one module per queue family: agent, ingestion, evaluation."""
