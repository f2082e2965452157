"""Step 5 of the flow, and the kit's show: `make demo` (`walkthrough`), the Gradio demo Space (`space`)
and where its visitors' votes go (`visitors`)."""
