"""Settings: the TOML config file read once into typed, validated values, one module per table."""
