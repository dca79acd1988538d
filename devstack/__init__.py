"""The servers that tests, the benchmark and `make dev` start: MariaDB, moto, the app."""
