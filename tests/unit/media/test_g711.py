"""G.711 by table: ITU-T vectors, exhaustive error bounds, properties, and audioop parity."""

from __future__ import annotations

import itertools
import struct
import types
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from switchboard.media.g711 import SILENCE, Codec, G711Error, decode, encode, silence

ALL_SAMPLES = tuple(range(-32768, 32768))
ALL_PCM = struct.pack("<65536h", *ALL_SAMPLES)
ALL_CODES = bytes(range(256))


def pcm(*samples: int) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def samples(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(data) // 2}h", data)


VECTORS = [
    (Codec.PCMU, 0xFF, 0),
    (Codec.PCMU, 0x7F, 0),
    (Codec.PCMU, 0x00, -32124),
    (Codec.PCMU, 0x80, 32124),
    (Codec.PCMU, 0xFE, 8),
    (Codec.PCMU, 0x7E, -8),
    (Codec.PCMU, 0xF0, 120),
    (Codec.PCMA, 0xD5, 8),
    (Codec.PCMA, 0x55, -8),
    (Codec.PCMA, 0xAA, 32256),
    (Codec.PCMA, 0x2A, -32256),
    (Codec.PCMA, 0xD4, 24),
    (Codec.PCMA, 0xC5, 264),
]


@pytest.mark.parametrize(
    ("codec", "code", "sample"), VECTORS, ids=[f"{c.name}-{b:#04x}" for c, b, _ in VECTORS]
)
def test_itu_vectors_decode(codec: Codec, code: int, sample: int) -> None:
    assert samples(decode(bytes([code]), codec)) == (sample,)


ENCODE_VECTORS = [
    (Codec.PCMU, 0, 0xFF),
    (Codec.PCMU, 32124, 0x80),
    (Codec.PCMU, -32124, 0x00),
    (Codec.PCMU, 32767, 0x80),
    (Codec.PCMU, -32768, 0x00),
    (Codec.PCMA, 0, 0xD5),
    (Codec.PCMA, -1, 0x55),
    (Codec.PCMA, 32256, 0xAA),
    (Codec.PCMA, -32256, 0x2A),
    (Codec.PCMA, 32767, 0xAA),
    (Codec.PCMA, -32768, 0x2A),
]


@pytest.mark.parametrize(
    ("codec", "sample", "code"),
    ENCODE_VECTORS,
    ids=[f"{c.name}-{s}" for c, s, _ in ENCODE_VECTORS],
)
def test_itu_vectors_encode(codec: Codec, sample: int, code: int) -> None:
    assert encode(pcm(sample), codec) == bytes([code])


def test_payload_types_are_rfc3551() -> None:
    assert (Codec.PCMU.value, Codec.PCMA.value) == (0, 8)
    assert Codec(0) is Codec.PCMU


@pytest.mark.parametrize("codec", list(Codec), ids=lambda c: c.name)
def test_every_code_survives_a_round_trip(codec: Codec) -> None:
    """encode(decode(b)) == b for all 256 codes, but µ-law's two zeros (0x7F, 0xFF)."""
    again = encode(decode(ALL_CODES, codec), codec)
    expected = bytearray(ALL_CODES)
    if codec is Codec.PCMU:
        expected[0x7F] = 0xFF  # "negative zero" decodes to 0, which encodes as 0xFF
    assert again == bytes(expected)


@pytest.mark.parametrize("codec", list(Codec), ids=lambda c: c.name)
def test_decoding_is_odd_symmetric_and_monotonic(codec: Codec) -> None:
    decoded = samples(decode(ALL_CODES, codec))
    assert len(set(decoded)) == (255 if codec is Codec.PCMU else 256)
    # Each sign half is a monotonic staircase, mirror images of each other.
    levels = sorted(decoded)
    assert [-x for x in reversed(levels)] == levels


def _step(code: int, codec: Codec) -> int:
    """The quantisation step (16-bit units) of the segment ``code`` lies in."""
    if codec is Codec.PCMU:
        return 8 << ((~code & 0x70) >> 4)
    segment = ((code ^ 0x55) & 0x70) >> 4
    return 16 << max(0, segment - 1)


@pytest.mark.parametrize("codec", list(Codec), ids=lambda c: c.name)
def test_error_is_within_half_a_step_for_every_sample(codec: Codec) -> None:
    """Exhaustive: decode(encode(x)) is within half a quantisation step of x; beyond the
    largest level it saturates. µ-law drops two low bits first, which costs up to 3."""
    codes = encode(ALL_PCM, codec)
    decoded = samples(decode(codes, codec))
    top = max(decoded)
    slack = 3 if codec is Codec.PCMU else 0
    for x, code, y in zip(ALL_SAMPLES, codes, decoded, strict=True):
        if abs(x) > top:
            assert y == (top if x > 0 else -top)
        else:
            assert abs(x - y) <= _step(code, codec) // 2 + slack, (x, code, y)


@pytest.mark.parametrize("codec", list(Codec), ids=lambda c: c.name)
def test_encoding_is_monotonic(codec: Codec) -> None:
    decoded = samples(decode(encode(ALL_PCM, codec), codec))
    assert all(a <= b for a, b in itertools.pairwise(decoded))


@given(st.binary(max_size=4000).map(lambda b: b[: len(b) & ~1]), st.sampled_from(list(Codec)))
def test_frames_are_coded_sample_by_sample(data: bytes, codec: Codec) -> None:
    coded = encode(data, codec)
    assert len(coded) == len(data) // 2
    assert coded == b"".join(encode(data[i : i + 2], codec) for i in range(0, len(data), 2))
    assert len(decode(coded, codec)) == len(data)


@given(st.binary(max_size=2000), st.sampled_from(list(Codec)))
def test_decode_then_encode_is_stable(payload: bytes, codec: Codec) -> None:
    once = encode(decode(payload, codec), codec)
    assert encode(decode(once, codec), codec) == once
    assert decode(once, codec) == decode(payload, codec)


def test_odd_pcm_is_refused_with_a_reason() -> None:
    with pytest.raises(G711Error, match="odd number of bytes"):
        encode(b"\x00\x00\x00", Codec.PCMU)


def test_empty_and_single_samples() -> None:
    assert encode(b"", Codec.PCMA) == b""
    assert decode(b"", Codec.PCMA) == b""
    assert encode(pcm(8), Codec.PCMA) == b"\xd5"


@pytest.mark.parametrize("codec", list(Codec), ids=lambda c: c.name)
def test_silence_decodes_to_zero(codec: Codec) -> None:
    frame = silence(160, codec)
    assert len(frame) == 160
    assert set(frame) == {SILENCE[codec]}
    assert abs(samples(decode(frame, codec))[0]) <= 8


def _audioop() -> types.ModuleType | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop  # deprecated in 3.11, removed in 3.13
        except ImportError:
            return None
    return audioop


@pytest.mark.parametrize("codec", list(Codec), ids=lambda c: c.name)
def test_identical_to_audioop_over_every_sample(codec: Codec) -> None:
    audioop = _audioop()
    if audioop is None:
        pytest.skip("audioop is not in this Python (removed in 3.13): nothing to compare with")
    lin2, to_lin = (
        (audioop.lin2ulaw, audioop.ulaw2lin)
        if codec is Codec.PCMU
        else (audioop.lin2alaw, audioop.alaw2lin)
    )
    assert encode(ALL_PCM, codec) == lin2(ALL_PCM, 2)
    assert decode(ALL_CODES, codec) == to_lin(ALL_CODES, 2)
