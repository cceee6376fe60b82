"""Byte mutations for the fuzz targets: seeds from tests/fuzz/corpus, or produced live.

A mutation is a list of ``(kind, position, value)`` operations, drawn by hypothesis and
applied to a seed, so the same operations can mutate a seed known only at run time (a
peer's genuine answer to the server's last request).
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parents[2] / "fuzz" / "corpus"

Operation = tuple[int, int, int]

FLIP_BIT, CUT, INSERT, OVERWRITE, REPEAT_RUN = range(5)
LONGEST_RUN = 8 * 255  # deep enough to nest JSON or TLVs past Python's recursion limit


def corpus_seeds(kind: str) -> list[bytes]:
    """The corpus files ``<kind>-NN.bin`` (see tests/fuzz/make_corpus.py)."""
    seeds = [p.read_bytes() for p in sorted(CORPUS.glob(f"{kind}-*.bin"))]
    if not seeds:
        raise FileNotFoundError(f"no {kind}-*.bin seeds in {CORPUS}: run make_corpus.py")
    return seeds


def apply_mutations(seed: bytes, operations: list[Operation]) -> bytes:
    """``seed`` with bits flipped, cut, bytes inserted or overwritten, or a run repeated."""
    data = bytearray(seed)
    for kind, pos, value in operations:
        if not data:
            data.append(value)
            continue
        pos %= len(data)
        if kind == FLIP_BIT:
            data[pos] ^= 1 << (value % 8)
        elif kind == CUT:
            del data[pos:]
        elif kind == INSERT:
            data[pos:pos] = bytes([value]) * (value % 5 + 1)
        elif kind == OVERWRITE:
            data[pos] = value
        else:
            data[pos:pos] = data[pos:pos + 1] * (value * 8)
    return bytes(data)


def mutation_operations(max_size: int = 6) -> st.SearchStrategy[list[Operation]]:
    # REPEAT_RUN is rare: one in 13 operations, so most cases stay small.
    kinds = st.sampled_from([FLIP_BIT] * 3 + [CUT] * 2 + [INSERT] * 3 + [OVERWRITE] * 4
                            + [REPEAT_RUN])
    operation = st.tuples(kinds, st.integers(0, 1 << 16), st.integers(0, 255))
    return st.lists(operation, min_size=1, max_size=max_size)


OPENERS = b"[{(<"


def nested(seed: bytes, which: int, count: int) -> bytes:
    """``seed`` with one of its opening brackets (else any octet) repeated ``count`` times:
    deep nesting for parsers that recurse (JSON arrays, ...)."""
    if not seed:
        return seed
    openers = [i for i, octet in enumerate(seed) if octet in OPENERS] or list(range(len(seed)))
    pos = openers[which % len(openers)]
    return seed[:pos] + seed[pos:pos + 1] * count + seed[pos:]


def mutated(seeds: list[bytes], random_size: int = 300,
            long_runs: bool = False) -> st.SearchStrategy[bytes]:
    """A mutated seed, an unmodified seed, or plain random bytes (``long_runs``: also a
    seed nested deep, see :func:`nested`)."""
    choices = [st.builds(apply_mutations, st.sampled_from(seeds), mutation_operations()),
               st.sampled_from(seeds), st.binary(max_size=random_size)]
    if long_runs:
        choices.append(st.builds(nested, st.sampled_from(seeds), st.integers(0, 1 << 16),
                                 st.integers(100, 8 * 255)))
    return st.one_of(choices)
