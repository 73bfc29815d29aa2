"""G.711 µ-law (PCMU) and A-law (PCMA) by table, without ``audioop``.

``audioop`` is gone in Python 3.13, and a per-sample Python loop costs hundreds of µs per
20 ms frame. Both directions are therefore table look-ups done by C loops:

- decode: two 256-byte ``bytes.translate`` tables give each code's low and high PCM byte;
  slice assignment interleaves them (about 1 µs per 160-byte frame);
- encode: one 65536-byte table indexed by the unsigned 16-bit sample; ``itemgetter`` over
  a ``memoryview`` cast to ``H`` looks all samples up in one C call (a few µs per
  160-sample frame).

The tables are built once at import from the reference algorithms (ITU-T G.711 tables 1a
and 2a; the segment arithmetic is that of the Sun/CCITT reference code ``g711.c`` that
``audioop`` also used, so the output is byte-identical to ``audioop.lin2ulaw``/
``lin2alaw`` and a differential test proves it where ``audioop`` still exists). For
negative µ-law samples that code negates in two's complement where ITU-T G.191 takes the
one's complement, so a few negative samples right on a decision level land one code
apart from G.191's choice: an error below one 14-bit step, which nobody hears, and the
price of matching the output every Python audio tool produced until 3.13.

PCM is the project's convention: 16-bit signed little-endian mono at 8 kHz; the payload
type numbers are RFC 3551 §6 (PCMU 0, PCMA 8).
"""

from __future__ import annotations

import enum
import sys
from array import array
from collections.abc import Callable, Sequence
from operator import itemgetter

from switchboard.media.errors import MediaError

SAMPLE_RATE = 8000
"""G.711's clock rate, and the RTP timestamp rate for both codecs (RFC 3551 §4.5.14)."""


class Codec(enum.IntEnum):
    """The two G.711 laws, valued by their static RTP payload type (RFC 3551 table 4)."""

    PCMU = 0
    PCMA = 8

    @property
    def encoding_name(self) -> str:
        """The name in ``a=rtpmap`` (RFC 3551 §6)."""
        return self.name


class G711Error(MediaError):
    """PCM that cannot be encoded (odd byte count: not whole 16-bit samples)."""


_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159  # on the 14-bit magnitude
_ULAW_SEGMENT_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEGMENT_END = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    for index, end in enumerate(ends):
        if value <= end:
            return index
    return len(ends)


def _ulaw_to_linear(code: int) -> int:
    """The 16-bit sample a µ-law code stands for (G.711 table 2a; 0x00 -> -32124)."""
    inverted = ~code & 0xFF
    magnitude = (((inverted & 0x0F) << 3) + _ULAW_BIAS) << ((inverted & 0x70) >> 4)
    return _ULAW_BIAS - magnitude if inverted & 0x80 else magnitude - _ULAW_BIAS


def _alaw_to_linear(code: int) -> int:
    """The 16-bit sample an A-law code stands for (G.711 table 1a; 0xD5 -> 8)."""
    value = code ^ 0x55  # A-law inverts the even bits
    magnitude = (value & 0x0F) << 4
    segment = (value & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if value & 0x80 else -magnitude


def _ulaw_code(value: int) -> int:
    """The µ-law code for a 14-bit sample (the 16-bit one shifted right by 2)."""
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = _segment(value, _ULAW_SEGMENT_END)
    if segment >= 8:  # the clipped maximum, 8159 + 33, lies just past the last segment
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _alaw_code(value: int) -> int:
    """The A-law code for a 13-bit sample (the 16-bit one shifted right by 3)."""
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = _segment(value, _ALAW_SEGMENT_END)
    if segment >= 8:
        return 0x7F ^ mask
    shift = 1 if segment < 2 else segment
    return ((segment << 4) | ((value >> shift) & 0x0F)) ^ mask


def _decode_tables(to_linear: Callable[[int], int]) -> tuple[bytes, bytes]:
    """Low and high bytes (little-endian) of each code's sample, as translate tables."""
    samples = [to_linear(code) for code in range(256)]
    return bytes(s & 0xFF for s in samples), bytes((s >> 8) & 0xFF for s in samples)


def _encode_table(code: Callable[[int], int], bits: int) -> bytes:
    """The code for every unsigned 16-bit index (a sample's two's-complement pattern).

    Both laws look only at the top ``bits`` bits of the sample, so the coder runs once per
    ``bits``-bit value and slice assignment repeats each result for the dropped low bits:
    24,576 calls instead of 131,072: about 20 ms at import instead of about 80.
    """
    top = 1 << bits
    half = top >> 1
    short = bytes(code(u - top if u >= half else u) for u in range(top))
    repeat = 0x10000 // top
    table = bytearray(0x10000)
    for low_bits in range(repeat):
        table[low_bits::repeat] = short
    return bytes(table)


_DECODE = {
    Codec.PCMU: _decode_tables(_ulaw_to_linear),
    Codec.PCMA: _decode_tables(_alaw_to_linear),
}
_ENCODE = {
    Codec.PCMU: _encode_table(_ulaw_code, 14),
    Codec.PCMA: _encode_table(_alaw_code, 13),
}
_BIG_ENDIAN = sys.byteorder == "big"

SILENCE = {Codec.PCMU: 0xFF, Codec.PCMA: 0xD5}
"""The code for a zero sample: what a frame of silence is filled with."""


def decode(payload: bytes, codec: Codec) -> bytes:
    """G.711 ``payload`` as 16-bit little-endian PCM, two bytes per input byte."""
    low, high = _DECODE[codec]
    out = bytearray(2 * len(payload))
    out[0::2] = payload.translate(low)
    out[1::2] = payload.translate(high)
    return bytes(out)


def encode(pcm: bytes, codec: Codec) -> bytes:
    """16-bit little-endian PCM as G.711, one byte per sample."""
    if len(pcm) & 1:
        raise G711Error(
            f"PCM has an odd number of bytes ({len(pcm)}); it must be whole 16-bit samples"
        )
    table = _ENCODE[codec]
    samples: Sequence[int]
    if _BIG_ENDIAN:  # pragma: no cover - the project runs on little-endian machines
        swapped = array("H", pcm)
        swapped.byteswap()
        samples = swapped
    else:
        samples = memoryview(pcm).cast("H")
    if len(samples) < 2:  # itemgetter of one index returns a bare value, of none fails
        return bytes([table[s] for s in samples])
    # itemgetter does the whole look-up in C: about half the cost of map(table.__getitem__).
    return bytes(itemgetter(*samples)(table))


def silence(samples: int, codec: Codec) -> bytes:
    """``samples`` codes of silence (one 20 ms frame is 160)."""
    return bytes([SILENCE[codec]]) * samples
