"""Step 4 of the flow: TRL's KTOTrainer with a LoRA adapter on the export, evaluated base vs tuned.

`arguments` holds the kit's options and the defaults it gives TRL's, `data` reads and checks the
KTO dataset, `models` finds base models (the offline tiny one too) and an adapter's base,
`evaluation` scores base vs tuned with the form check, `card` writes the model card, `run` is
train_kto.py's work.
"""
