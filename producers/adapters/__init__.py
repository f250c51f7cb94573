"""Device adapters: each turns one kind of device input into contract events via the Publisher."""
