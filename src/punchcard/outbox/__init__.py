"""The transactional outbox: domain events stored with the change that caused them, then handed to each consumer."""
