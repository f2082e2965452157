"""Step 3 of the flow: submitted 👍/👎 responses in Argilla → TRL's KTO format, with a dataset card.

In the order the data flows: `read` (records and responses from Argilla) → `aggregate` (one label per
record, agreement) → `rows` (KTO rows, DPO pairs, raw backup, the train/test split) → `summary` (the
figures) → `card` (the dataset card and chart) → `write` (local folder, the Hub); `build` runs them
for export_kto.py.
"""
