"""The judgements against the labelled corpora in ``tests/corpus``.

Each figure of ``bench.judgement`` must meet its goal; a failure lists the
cases it got wrong. The corpora are written the way hiring systems,
schedulers, calendar apps and mail servers really write (see each
``SOURCES.md``); they are not the set the goals are finally measured on,
so the rules behind these figures are general ones, one per kind of
evidence, never one per file.
"""

from __future__ import annotations

import pytest

from bench import judgement

TALLY = judgement.replies(judgement.invites())


@pytest.mark.parametrize("key", [key for key, _ in judgement.FIGURES])
def test_each_figure_meets_its_goal(key):
    value = TALLY.value(key)
    assert value is not None, f"no labelled case for {key}"
    wrong = "\n".join(TALLY.wrong.get(key, []))
    assert value >= judgement.GOALS[key], f"{key}: {value:.3f} < {judgement.GOALS[key]}\n{wrong}"


def test_every_corpus_file_is_labelled_and_every_label_has_a_file():
    import tomllib

    for name in (*judgement.INVITE_SETS, "replies"):
        folder = judgement.CORPUS / name
        labels = tomllib.loads((folder / "labels.toml").read_text(encoding="utf-8"))
        labels.pop("processes", None)
        files = {p.name for p in folder.iterdir() if p.suffix in (".ics", ".eml")}
        assert files == set(labels), name
        assert (folder / "SOURCES.md").is_file()


def test_the_corpora_are_large_enough_to_mean_something():
    assert TALLY.total["detection recall"] >= 60
    assert TALLY.total["answers found"] >= 40 and TALLY.total["non-answers left"] >= 40
    assert TALLY.total.get("detection precision", 0) >= 60
