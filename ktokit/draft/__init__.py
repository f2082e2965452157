"""Drafting a new language's pack: prompts and examples by models, reviewed by people."""
