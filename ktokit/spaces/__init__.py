"""What the annotation, demo and dashboard Spaces share; each Space's own values stay with its step.

`render` fills a template folder (placeholders, requirements for the hardware, the file list of a
plan), `vendor` finds the kit modules a Space's app imports by reading the code, `provision` checks
hardware and sleep time, writes the plan's Space line, creates or updates a Space on the Hub and
waits for it to run, `gradio` is a rendered Gradio Space (demo, dashboard) shown as a plan, served
here or pushed. Only the shared modules are imported here, never a step (tests/test_layout.py).
"""
