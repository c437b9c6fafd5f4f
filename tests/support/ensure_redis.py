"""Make sure a redis-server binary exists for the fleet-mode tests (placeholder until issue 8)."""

if __name__ == "__main__":
    pass
