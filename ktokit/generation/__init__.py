"""Step 1 of the flow: every prompt of a language pack answered by several models (distilabel).

`models` reads model sets, `backends` holds the distilabel LLMs, `pipeline` the steps and runners,
`output` what a run writes and prints, `run` ties them together for `preference_gen.py`.
"""

from ktokit.generation.models import ModelSet, ModelSpec, load_model_set
from ktokit.generation.run import (
    GenerationPlan,
    GenerationResult,
    choose_model_set,
    generate,
    prepare,
    select_prompts,
)

__all__ = [
    "GenerationPlan", "GenerationResult", "ModelSet", "ModelSpec", "choose_model_set", "generate",
    "load_model_set", "prepare", "select_prompts",
]
