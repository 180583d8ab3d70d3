"""How a list view's error says the view was made: from the command its lists' catalog entry records."""

from __future__ import annotations

import pytest

from complement.listview import how_made, is_fusion


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (
            "complement fuse --views a,b --method rrf --view f --k 20",
            "its lists were fused with `complement fuse --views a,b --method rrf --view f --k 20`, and rrf fusion "
            "writes top-K lists, no vectors",
        ),
        (
            "complement fuse --views a,b --method=score --view f",
            "its lists were fused with `complement fuse --views a,b --method=score --view f`, and score fusion "
            "writes top-K lists, no vectors",
        ),
        (
            "complement topk --view x --from run.trec",
            "its lists were imported with `complement topk --view x --from run.trec`",
        ),
        (
            "complement topk --view x --from=r.tsv",
            "its lists were imported with `complement topk --view x --from=r.tsv`",
        ),
        ("my-script --out lists", "its lists were made by `my-script --out lists`, without vectors"),
        ("", "it has top-K lists and no vectors"),  # written by the library's raw writers: the catalog does not say
        ("complement fuse 'unbalanced", "its lists were made by `complement fuse 'unbalanced`, without vectors"),
    ],
)
def test_how_a_list_view_was_made(command, said):
    assert how_made(command) == said


def test_only_a_fuse_command_is_a_fusion():
    assert is_fusion("complement fuse --views a,b --method rrf --view f")
    assert not is_fusion("complement topk --view f --from x.trec") and not is_fusion("")
