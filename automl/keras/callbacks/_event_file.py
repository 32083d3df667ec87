"""TensorBoard event files in pure Python: TFRecord framing, CRC-32C and the protobuf wire format.

An event file is a sequence of TFRecords, each holding one serialized
``tensorflow.Event`` protocol buffer. A record is::

    uint64 length (little-endian) | uint32 masked_crc32c(length bytes)
    payload (length bytes)        | uint32 masked_crc32c(payload)

where ``masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2**32)`` and
CRC-32C is the Castagnoli CRC (reflected polynomial ``0x82F63B78``). The first
event of a file holds ``file_version = "brain.Event:2"``; the following ones
hold a ``Summary`` with scalar (``simple_value``) or histogram (``histo``)
values. The messages used, with their field numbers::

    Event          {double wall_time = 1; int64 step = 2; string file_version = 3;
                    Summary summary = 5}
    Summary        {repeated Value value = 1}
    Summary.Value  {string tag = 1; float simple_value = 2; HistogramProto histo = 5}
    HistogramProto {double min = 1; double max = 2; double num = 3; double sum = 4;
                    double sum_squares = 5; repeated double bucket_limit = 6 [packed];
                    repeated double bucket = 7 [packed]}

:class:`EventFileWriter` writes such files and :func:`read_events` reads them
back (checking both checksums of every record), so no TensorFlow, TensorBoard
or protobuf package is needed.
"""

from __future__ import annotations

import os
import socket
import struct
import time

import numpy as np

__all__ = ["EventFileWriter", "crc32c", "masked_crc32c", "read_events", "histogram"]

_FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF

# Wire types of the protobuf encoding.
_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC32C_TABLE = _crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC-32C (Castagnoli) checksum of ``data``, continuing from ``crc``.

    >>> hex(crc32c(b"123456789"))
    '0xe3069283'
    """
    table = _CRC32C_TABLE
    crc ^= _U32
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ _U32


def masked_crc32c(data: bytes) -> int:
    """The CRC-32C of ``data`` rotated right by 15 bits plus ``0xa282ead8``, as TFRecords store it."""
    crc = crc32c(data)
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


# -- protobuf encoding --------------------------------------------------------
def _varint(value: int) -> bytes:
    value &= _U64  # negative int64 values take ten bytes, as two's complement
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _double(field: int, value: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", value)


def _float(field: int, value: float) -> bytes:
    return _key(field, _FIXED32) + struct.pack("<f", value)


def _int64(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(value)


def _length_delimited(field: int, payload: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(payload)) + payload


def _packed_doubles(field: int, values) -> bytes:
    return _length_delimited(field, np.asarray(values, dtype="<f8").tobytes())


def _event(wall_time: float, step: int = 0, *, file_version: str | None = None,
           values: tuple[bytes, ...] = ()) -> bytes:
    """A serialized Event; ``values`` are serialized ``Summary.Value`` messages."""
    out = _double(1, wall_time)
    if step:
        out += _int64(2, step)
    if file_version is not None:
        out += _length_delimited(3, file_version.encode())
    if values:
        out += _length_delimited(5, b"".join(_length_delimited(1, v) for v in values))
    return out


def _scalar_value(tag: str, value: float) -> bytes:
    return _length_delimited(1, tag.encode()) + _float(2, value)


def histogram(values, bins: int = 30) -> dict:
    """The fields of a ``HistogramProto`` for ``values``: ``bins`` equal-width buckets over [min, max].

    ``bucket_limit[i]`` is the right edge of bucket ``i`` (the last one is
    ``max``) and ``bucket[i]`` its count. Non-finite values are left out;
    when all values are equal there is a single bucket.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = np.isfinite(v)
    if not finite.all():
        v = v[finite]
    if v.size == 0:
        return {"min": 0.0, "max": 0.0, "num": 0.0, "sum": 0.0, "sum_squares": 0.0,
                "bucket_limit": [], "bucket": []}
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        limits, counts = np.array([hi]), np.array([v.size], dtype=np.float64)
    else:
        counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
        limits = edges[1:]
        limits[-1] = hi
    return {"min": lo, "max": hi, "num": float(v.size), "sum": float(v.sum()),
            "sum_squares": float(np.dot(v, v)), "bucket_limit": limits.tolist(),
            "bucket": counts.astype(np.float64).tolist()}


def _histogram_value(tag: str, histo: dict) -> bytes:
    proto = b"".join(_double(i, histo[name]) for i, name in
                     enumerate(("min", "max", "num", "sum", "sum_squares"), start=1))
    if histo["bucket"]:
        proto += _packed_doubles(6, histo["bucket_limit"]) + _packed_doubles(7, histo["bucket"])
    return _length_delimited(1, tag.encode()) + _length_delimited(5, proto)


def _record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return (header + struct.pack("<I", masked_crc32c(header))
            + payload + struct.pack("<I", masked_crc32c(payload)))


# -- writing ------------------------------------------------------------------
class EventFileWriter:
    """Append events to a new ``events.out.tfevents.<time>.<host>.<pid>.<n>.v2`` file in ``logdir``.

    ``n`` is the smallest number giving a name not yet taken, so several
    writers opened in one second never share a file.

    Parameters
    ----------
    logdir : str or path-like
        The run's folder (created if needed).
    """

    def __init__(self, logdir):
        self.logdir = os.fspath(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        stem = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}"
        n = 0
        while True:
            self.path = os.path.join(self.logdir, f"{stem}.{n}.v2")
            try:
                self._file = open(self.path, "xb")  # noqa: SIM115
                break
            except FileExistsError:
                n += 1
        self._file.write(_record(_event(time.time(), file_version=_FILE_VERSION)))

    @property
    def closed(self) -> bool:
        return self._file.closed

    def add_scalar(self, tag: str, value, step: int, wall_time: float | None = None) -> None:
        """Write one scalar (stored as a float32 ``simple_value``)."""
        self._write(step, _scalar_value(tag, float(value)), wall_time)

    def add_histogram(self, tag: str, values, step: int, wall_time: float | None = None,
                      bins: int = 30) -> None:
        """Write the histogram of ``values`` (see :func:`histogram`)."""
        self._write(step, _histogram_value(tag, histogram(values, bins)), wall_time)

    def _write(self, step, value, wall_time):
        event = _event(time.time() if wall_time is None else wall_time, int(step), values=(value,))
        self._file.write(_record(event))

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- reading ------------------------------------------------------------------
def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("Truncated varint in a protocol buffer.")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> dict[int, list]:
    """Decode one message into ``{field number: [raw values]}`` (ints or bytes)."""
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _FIXED64:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == _FIXED32:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == _BYTES:
            size, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + size], pos + size
        else:
            raise ValueError(f"Unsupported protobuf wire type {wire} (field {field}).")
        if pos > len(buf):
            raise ValueError("Truncated protocol buffer.")
        fields.setdefault(field, []).append(value)
    return fields


def _last_double(fields, number, default=0.0):
    return struct.unpack("<d", fields[number][-1])[0] if number in fields else default


def _doubles(fields, number):
    raw = b"".join(chunk for chunk in fields.get(number, []) if len(chunk) % 8 == 0)
    return np.frombuffer(raw, dtype="<f8").tolist()


def _decode_value(buf: bytes) -> dict:
    fields = _fields(buf)
    value = {"tag": fields[1][-1].decode() if 1 in fields else ""}
    if 2 in fields:
        value["simple_value"] = struct.unpack("<f", fields[2][-1])[0]
    if 5 in fields:
        h = _fields(fields[5][-1])
        value["histo"] = {name: _last_double(h, i) for i, name in
                          enumerate(("min", "max", "num", "sum", "sum_squares"), start=1)}
        value["histo"]["bucket_limit"] = _doubles(h, 6)
        value["histo"]["bucket"] = _doubles(h, 7)
    return value


def _decode_event(buf: bytes) -> dict:
    fields = _fields(buf)
    step = fields[2][-1] if 2 in fields else 0
    event = {
        "wall_time": _last_double(fields, 1),
        "step": step - (1 << 64) if step >> 63 else step,
        "file_version": fields[3][-1].decode() if 3 in fields else None,
        "values": [],
    }
    if 5 in fields:
        event["values"] = [_decode_value(v) for v in _fields(fields[5][-1]).get(1, [])]
    return event


def read_events(path) -> list[dict]:
    """Decode every event of an event file, checking both CRCs of each record.

    Returns
    -------
    list of dict
        One dict per event: ``wall_time``, ``step``, ``file_version`` (None
        except in the first event) and ``values``, a list of
        ``{"tag", "simple_value"}`` or ``{"tag", "histo": {min, max, num, sum,
        sum_squares, bucket_limit, bucket}}`` dicts.

    Raises
    ------
    ValueError
        If a record is truncated or one of its checksums does not match.
    """
    with open(path, "rb") as f:
        data = f.read()
    events, pos = [], 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError(f"Truncated record header at byte {pos} of {path}.")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if header_crc != masked_crc32c(header):
            raise ValueError(f"Corrupted record length at byte {pos} of {path}: CRC mismatch.")
        start, end = pos + 12, pos + 12 + length
        if end + 4 > len(data):
            raise ValueError(f"Truncated record at byte {pos} of {path}.")
        payload = data[start:end]
        (payload_crc,) = struct.unpack("<I", data[end:end + 4])
        if payload_crc != masked_crc32c(payload):
            raise ValueError(f"Corrupted record at byte {pos} of {path}: CRC mismatch.")
        events.append(_decode_event(payload))
        pos = end + 4
    return events
