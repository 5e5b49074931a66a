"""The texts: templates in each language, the follow-ups composed from
them, and the draft messages built from those."""
