"""Stats: a JSON query (SPEC §5) becomes rows, through one query model compiled per SQL dialect."""
