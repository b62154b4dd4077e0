import pytest

from imgdenoise.tiling import balanced_tile, tile_starts


@pytest.mark.parametrize("size", [64, 65, 700, 1160, 1736, 3001])
@pytest.mark.parametrize("tile,overlap", [(704, 64), (256, 32), (96, 80)])
def test_balanced_tiles_are_as_few_and_as_small_as_can_be(size, tile, overlap):
    length = balanced_tile(size, tile, overlap, 8)
    starts = tile_starts(size, length, length - overlap)
    fewest = 1 if size <= tile else -(-(size - overlap) // (tile - overlap))
    assert length <= max(tile, size if size <= tile else 0) and len(starts) == fewest
    assert starts[0] == 0 and starts[-1] + length == size
    assert all(b - a <= length - overlap for a, b in zip(starts, starts[1:]))  # overlap kept
    if size > tile:
        assert length % 8 == 0 and length < tile + 8
