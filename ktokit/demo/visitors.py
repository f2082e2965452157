"""Where the demo Space's visitors' votes go in Argilla, and the narrow user that adds them.

A credential that can *add* records but cannot touch annotators' answers must be an admin of a
workspace that holds no annotator answers (the roles: ktokit.annotate.roles). So the demo Space's user,
`<workspace>-demo`, is an admin of `<workspace>-visitors` only, where the visitors' votes go, as records
of the dataset `<dataset>-visitors` (the annotation task's settings, plus the visitor metadata). It is
no member of the annotation workspace: it cannot read, add, change or delete anything there
(tests/test_roles.py shows each refusal on a real server). The organiser rates those records later, or
copies them into the annotation dataset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ktokit.annotate import admin
from ktokit.annotate.roles import UserCredentials, ensure_user, find_dataset

if TYPE_CHECKING:
    from ktokit.annotate.credentials import ArgillaTarget
    from ktokit.annotate.task import TaskTemplate

VISITORS_SUFFIX = "-visitors"
# What a visitor's vote adds to the task's metadata: hidden from annotators except the source, so the
# vote and the side (base or tuned) do not sway their own answer.
VISITOR_METADATA = (
    {"kind": "terms", "name": "source", "title": "source", "visible": True},
    {"kind": "terms", "name": "visitor_vote", "title": "visitor vote", "visible": False},
    {"kind": "terms", "name": "side", "title": "side", "visible": False},
    {"kind": "terms", "name": "compare", "title": "compare", "visible": False},
    # the blind arena's verdicts (space_template/demo/app.py): either side's record holds the whole verdict
    {"kind": "terms", "name": "model_a", "title": "model A", "visible": False},
    {"kind": "terms", "name": "model_b", "title": "model B", "visible": False},
    {"kind": "terms", "name": "verdict", "title": "arena verdict", "visible": False},
    {"kind": "terms", "name": "voted_at", "title": "voted at", "visible": False},
    {"kind": "terms", "name": "tuned", "title": "tuned model", "visible": False},  # which one is tuned
)


def visitors_names(workspace: str, dataset: str) -> tuple[str, str]:
    """(workspace, dataset) where the demo Space's visitor votes go."""
    return f"{workspace}{VISITORS_SUFFIX}", f"{dataset}{VISITORS_SUFFIX}"


def demo_username(workspace: str) -> str:
    return f"{workspace}-demo".lower()


def visitors_template(language: str, workspace: str, dataset: str, min_submitted: int) -> TaskTemplate:
    """The annotation task's template, renamed for the visitors' dataset and with the visitor metadata."""
    from ktokit.annotate.task import task_template
    from ktokit.packs.languages import load_pack

    ws, ds = visitors_names(workspace, dataset)
    template = task_template(load_pack(language), min_submitted=min_submitted, dataset=ds, workspace=ws)
    template.metadata = [*template.metadata, *(dict(m) for m in VISITOR_METADATA)]
    return template


def demo_credentials(target: ArgillaTarget) -> UserCredentials:
    """The demo Space's user: admin of the visitors' workspace only, whose dataset is made here (once)."""
    from ktokit.annotate.task import DEFAULT_MIN_SUBMITTED, ensure_dataset

    with admin.translated(f"cannot make the visitors' dataset on the Argilla server at {target.api_url}"):
        owner = target.client()
        annotation = find_dataset(owner, target.dataset, target.workspace)
        min_submitted = (
            annotation.settings.distribution.min_submitted
            if annotation is not None
            else DEFAULT_MIN_SUBMITTED
        )
        template = visitors_template(target.language, target.workspace, target.dataset, min_submitted)
        ensure_dataset(owner, template)
    return ensure_user(
        owner.http_client,
        target.api_url,
        demo_username(target.workspace),
        "admin",
        [template.workspace],
        headers=target.edge_headers(),
    )
