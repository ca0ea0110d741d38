"""Search for runs and experiments with MLflow's filter / order_by / paging semantics.

lexer -> filter_parser (syntax) -> run_vocabulary / experiment_vocabulary (validation)
-> filter_compiler + order_by (SQLAlchemy Core) -> runs / experiments (queries).
"""
