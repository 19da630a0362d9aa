"""Stand-ins for heavy packages the grader does not install (only what the homework uses)."""
