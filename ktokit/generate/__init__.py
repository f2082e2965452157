"""Step 1 of the flow: every prompt of a language pack answered by several models (distilabel).

`models` reads model sets, `backends` holds the distilabel LLMs, `pipeline` the steps and runners,
`output` what a run writes and prints, `run` ties them together for `preference_gen.py`; `tiny`
builds the offline tiny models that stand in for Hub models on the local target (and in the tests).
"""

import warnings

# distilabel 1.5.3's pydantic models trip pydantic 2.11+ warnings at import and on every step:
# noise for users, nothing they can act on.
warnings.filterwarnings("ignore", message=r".*(PydanticDeprecatedSince|'default' attribute with value).*")
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"(distilabel|pydantic)\..*")

from ktokit.generate.models import ModelSet, ModelSpec, load_model_set  # noqa: E402
from ktokit.generate.run import (  # noqa: E402
    GenerationArguments,
    GenerationPlan,
    GenerationResult,
    choose_model_set,
    generate_responses,
    prepare,
    run_plan,
    select_prompts,
)

__all__ = [
    "GenerationArguments",
    "GenerationPlan",
    "GenerationResult",
    "ModelSet",
    "ModelSpec",
    "choose_model_set",
    "generate_responses",
    "load_model_set",
    "prepare",
    "run_plan",
    "select_prompts",
]
