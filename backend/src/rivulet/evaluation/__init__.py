"""Evaluation of flows on datasets (exact, contains, json_match, sql_execution, llm_judge); Text2SQL vs a baseline."""
