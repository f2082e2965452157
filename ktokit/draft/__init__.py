"""Step 7: drafting a new pack's prompts and examples with a model set, for people to review.

`asks` words the requests, `dedup` finds exact and near duplicates in any script, `run` asks the
models through preference_gen.py's pipeline and keeps the drafts that pass the checks.
"""
