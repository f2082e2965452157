"""Step 0 of the flow, what every later step reads: a language pack (`languages/<code>/`) and its form check.

`languages` loads and validates packs, `counting` counts syllables and morae per language, `cleaning`
takes the talk out of a model's answer, `form` checks it against the pack's form rule, `scaffold`
writes a new pack. Nothing here imports a later step (tests/test_layout.py checks it).
"""
