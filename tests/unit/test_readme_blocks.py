"""Generated README blocks: read and replaced between their markers, nothing else touched."""

import pytest

from tools.readme_blocks import BlockError, read_block, replace_block

README = """# Title
before
<!-- figures:begin (written by `quarry x`; do not edit) -->
old line
<!-- figures:end -->
after
"""


def test_readme_block_is_read_between_its_markers() -> None:
    assert read_block(README, "figures") == "old line\n"


def test_readme_block_replacement_keeps_the_rest_of_the_file() -> None:
    new = replace_block(README, "figures", "new line 1\nnew line 2")
    assert read_block(new, "figures") == "new line 1\nnew line 2\n"
    assert new.replace("new line 1\nnew line 2\n", "old line\n") == README


def test_readme_block_missing_or_doubled_is_a_clear_error() -> None:
    with pytest.raises(BlockError, match=r"exactly one block <!-- other:begin -->.*found 0"):
        read_block(README, "other")
    with pytest.raises(BlockError, match="found 2"):
        replace_block(README + README, "figures", "x")
