"""paramminer: mine ML papers for parameter counts, with evidence, into DuckDB."""

__version__ = "0.1.0"
