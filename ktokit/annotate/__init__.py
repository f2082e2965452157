"""Step 2 of the flow: the Argilla task annotators rate, on a Space with HF sign-in or a local server.

`task` is the dataset of one language (settings, records, idempotent logging), `create` is
create_task.py's work (a plan, then the Space or the local server), `space` the annotation Space's
own values and secrets (ktokit.spaces renders, provisions and waits), `credentials` where each
language's server is, `roles` narrow Argilla users, `argilla_local` the local Argilla server itself.
"""
