"""Apache Spark backend for data beyond one machine."""
