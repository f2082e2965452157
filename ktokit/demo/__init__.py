"""Step 5 of the flow, and the kit's show: `make demo` (`walkthrough`) and the Gradio demo Space (`space`)."""
