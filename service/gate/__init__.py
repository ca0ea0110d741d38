"""The CI quality gate: does this pipeline's best candidate regress against the target branch?"""
