"""An incremental ESC/POS parser: bytes in (in chunks of any size), builder calls and answers out.

Commands are consumed whole or not at all, so a command split across two TCP segments waits
for its tail. Commands the simulator does not render are skipped by their documented length;
bytes that are no command at all are skipped one by one and logged (counts, never content).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hardware.receipt_printer.simulator.printed import QR_ERROR_LEVELS, Receipt, ReceiptBuilder

logger = logging.getLogger(__name__)

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C
#: An image bigger than this is taken for garbage rather than waited for.
MAX_IMAGE_BYTES = 4 * 1024 * 1024
_ALIGN = {0: "left", 1: "center", 2: "right"}

# Commands with a fixed number of parameter bytes that change nothing the simulator draws.
_ESC_SKIP = {
    0x20: 1, 0x24: 2, 0x25: 1, 0x2B: 1, 0x32: 0, 0x33: 1, 0x3D: 1, 0x3F: 1, 0x41: 1, 0x42: 2,
    0x47: 1, 0x4B: 1, 0x4C: 0, 0x52: 1, 0x53: 0, 0x54: 1, 0x55: 1, 0x56: 1, 0x57: 8, 0x5C: 2,
    0x63: 2, 0x65: 1, 0x66: 2, 0x70: 3, 0x72: 1, 0x75: 1, 0x7B: 1,
}  # fmt: skip
_GS_SKIP = {
    0x24: 2, 0x2F: 1, 0x3A: 0, 0x45: 1, 0x48: 1, 0x49: 1, 0x4C: 2, 0x50: 2, 0x54: 1, 0x57: 2,
    0x5C: 2, 0x5E: 3, 0x61: 1, 0x62: 1, 0x66: 1, 0x68: 1, 0x77: 1, 0x7C: 1,
}  # fmt: skip
_FS_SKIP = {0x21: 1, 0x26: 0, 0x2D: 1, 0x2E: 0, 0x43: 1, 0x53: 2, 0x57: 1, 0x70: 2}


class NeedMore(Exception):
    """The command at the cursor is not complete yet."""


class Interrupted(Exception):
    """The connection is to be dropped here (fault injection)."""


class EscPosParser:
    """Feeds a :class:`ReceiptBuilder` from an ESC/POS byte stream."""

    def __init__(
        self,
        builder: ReceiptBuilder,
        *,
        status: Callable[[int], int | None],
        on_receipt: Callable[[Receipt], None],
        after_line: Callable[[], bool] | None = None,
    ) -> None:
        self.builder = builder
        self._status = status
        self._on_receipt = on_receipt
        self._after_line = after_line
        self._buf = bytearray()
        self._replies = bytearray()
        self._skipped = 0
        self._first_skipped = ""
        self._graphics: tuple[int, int, bytes, int, int] | None = None

    @property
    def pending(self) -> int:
        """Bytes of an incomplete command waiting for more data."""
        return len(self._buf)

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; returns the bytes the printer answers (status queries)."""
        self._buf += data
        pos = 0
        try:
            while pos < len(self._buf):
                try:
                    pos += self._step(pos)
                except NeedMore:
                    if len(self._buf) - pos > MAX_IMAGE_BYTES + 16:
                        self._skip(pos, 1, "oversized command")
                        pos += 1
                        continue
                    break
        finally:
            del self._buf[:pos]
            if self._skipped:
                logger.warning(
                    "Skipped %d unknown byte(s), first: %s", self._skipped, self._first_skipped
                )
                self._skipped = 0
        replies, self._replies = bytes(self._replies), bytearray()
        return replies

    # -- helpers ---------------------------------------------------------------------------

    def _need(self, pos: int, count: int) -> bytes:
        if len(self._buf) < pos + count:
            raise NeedMore
        return bytes(self._buf[pos : pos + count])

    def _skip(self, pos: int, length: int, what: str) -> int:
        if not self._skipped:
            self._first_skipped = f"{what} (0x{self._buf[pos]:02x})"
        self._skipped += length
        return length

    def _line_feed(self) -> None:
        self.builder.line_feed()
        if self._after_line is not None and self._after_line():
            raise Interrupted

    # -- dispatch --------------------------------------------------------------------------

    def _step(self, pos: int) -> int:
        byte = self._buf[pos]
        if byte == 0x0A or byte == 0x0C:
            self._line_feed()
            return 1
        if byte == 0x0D or byte == 0x00:
            return 1
        if byte == 0x09:
            self.builder.text(b"    ")
            return 1
        if byte == ESC:
            return self._esc(pos)
        if byte == GS:
            return self._gs(pos)
        if byte == DLE:
            return self._dle(pos)
        if byte == FS:
            return self._fs(pos)
        if byte < 0x20 or byte == 0x7F:
            return self._skip(pos, 1, "control byte")
        end = pos
        while end < len(self._buf) and self._buf[end] >= 0x20 and self._buf[end] != 0x7F:
            end += 1
        self.builder.text(bytes(self._buf[pos:end]))
        return end - pos

    def _esc(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        b = self.builder
        if cmd == 0x40:  # @ initialize
            b.initialize()
            return 2
        if cmd in (0x69, 0x6D):  # i, m: partial cut (older command)
            self._on_receipt(b.cut(partial=True))
            return 2
        if cmd == 0x76:  # v: paper sensor status
            self._reply_paper_sensor()
            return 2
        if cmd == 0x44:  # D: tab positions, up to NUL
            end = self._buf.find(b"\x00", pos + 2, pos + 35)
            if end < 0:
                if len(self._buf) < pos + 35:
                    raise NeedMore
                return self._skip(pos, 2, "ESC D without NUL")
            return end + 1 - pos
        if cmd == 0x2A:  # *: column bit image
            return self._column_image(pos)
        if cmd == 0x26:  # &: user-defined characters
            return self._user_characters(pos)
        if cmd == 0x28:  # ( A, ( Y…: function with a length
            head = self._need(pos, 5)
            return 5 + len(self._need(pos + 5, head[3] + 256 * head[4]))
        if cmd in _ESC_SKIP:
            return 2 + len(self._need(pos + 2, _ESC_SKIP[cmd]))
        if cmd in (0x45, 0x2D, 0x61, 0x21, 0x74, 0x4D, 0x64, 0x4A):
            n = self._need(pos, 3)[2]
            self._esc_mode(cmd, n)
            return 3
        return self._skip(pos, 2, "unknown ESC command")

    def _esc_mode(self, cmd: int, n: int) -> None:
        b = self.builder
        if cmd == 0x45:  # E bold
            b.restyle(bold=bool(n & 1))
        elif cmd == 0x2D:  # - underline
            b.restyle(underline=(n - 48 if n >= 48 else n) & 3)
        elif cmd == 0x61:  # a justification
            b.align = _ALIGN.get(n - 48 if n >= 48 else n, "left")
        elif cmd == 0x21:  # ! print mode: font, bold, double height/width, underline
            b.restyle(
                font=n & 1,
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=1 if n & 0x80 else 0,
            )
        elif cmd == 0x74:  # t code page
            b.select_code_page(n)
        elif cmd == 0x4D:  # M font
            b.restyle(font=(n - 48 if n >= 48 else n) & 1)
        elif cmd == 0x64:  # d print and feed n lines
            b.feed(n)
        else:  # J print and feed n dots: print the buffer
            b.feed(0)

    def _gs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        b = self.builder
        if cmd == 0x21:  # ! character size
            n = self._need(pos, 3)[2]
            b.restyle(width=min((n >> 4) + 1, 8), height=min((n & 0x0F) + 1, 8))
            return 3
        if cmd == 0x42:  # B reverse
            b.restyle(invert=bool(self._need(pos, 3)[2] & 1))
            return 3
        if cmd == 0x72:  # r transmit status
            if self._need(pos, 3)[2] in (1, 49):
                self._reply_paper_sensor()
            return 3
        if cmd == 0x56:  # V cut
            m = self._need(pos, 3)[2]
            length = 3 if m in (0, 1, 48, 49) else 4
            self._need(pos, length)
            self._on_receipt(b.cut(partial=m in (1, 49, 66, 98, 104)))
            return length
        if cmd == 0x76:  # v 0 raster image
            return self._raster(pos)
        if cmd == 0x6B:  # k barcode (not drawn)
            return self._barcode(pos)
        if cmd == 0x28:  # ( k, ( L, …
            head = self._need(pos, 5)
            length = head[3] + 256 * head[4]
            params = self._need(pos + 5, length)
            if head[2] == 0x6B:
                self._two_d_code(params)
            elif head[2] == 0x4C:
                self._graphics_function(params)
            return 5 + length
        if cmd == 0x38:  # 8 L: graphics with a four-byte length
            head = self._need(pos, 7)
            length = int.from_bytes(head[3:7], "little")
            if length > MAX_IMAGE_BYTES:
                return self._skip(pos, 7, "oversized GS 8 L")
            params = self._need(pos + 7, length)
            if head[2] == 0x4C:
                self._graphics_function(params)
            return 7 + length
        if cmd == 0x2A:  # * define downloaded bit image
            head = self._need(pos, 4)
            return 4 + len(self._need(pos + 4, head[2] * head[3] * 8))
        if cmd in _GS_SKIP:
            return 2 + len(self._need(pos + 2, _GS_SKIP[cmd]))
        return self._skip(pos, 2, "unknown GS command")

    def _dle(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd == 0x04:  # EOT n: real-time status
            n = self._need(pos, 3)[2]
            answer = self._status(n)
            if answer is None:
                logger.warning("Status query DLE EOT %d is not one this printer answers", n)
            else:
                self._replies.append(answer)
            return 3
        if cmd == 0x05:  # ENQ n
            return 2 + len(self._need(pos + 2, 1))
        if cmd == 0x14:  # DC4 fn …
            return 2 + len(self._need(pos + 2, 3))
        return self._skip(pos, 1, "unknown DLE command")

    def _fs(self, pos: int) -> int:
        cmd = self._need(pos, 2)[1]
        if cmd in _FS_SKIP:
            return 2 + len(self._need(pos + 2, _FS_SKIP[cmd]))
        if cmd == 0x28:
            head = self._need(pos, 5)
            return 5 + len(self._need(pos + 5, head[3] + 256 * head[4]))
        return self._skip(pos, 2, "unknown FS command")

    # -- commands with data ----------------------------------------------------------------

    def _reply_paper_sensor(self) -> None:
        end = self._status(4)
        if end is not None:
            near = 0x03 if end & 0x0C else 0
            self._replies.append(near | (0x0C if end & 0x60 else 0))

    def _raster(self, pos: int) -> int:
        head = self._need(pos, 8)
        if head[2] != 0x30:
            return self._skip(pos, 3, "unknown GS v function")
        m = head[3] & 0x03
        width_bytes = head[4] + 256 * head[5]
        rows = head[6] + 256 * head[7]
        size = width_bytes * rows
        if size > MAX_IMAGE_BYTES:
            return self._skip(pos, 8, "oversized GS v 0")
        data = self._need(pos + 8, size)
        if size:
            scale_x, scale_y = (2 if m & 1 else 1), (2 if m & 2 else 1)
            self.builder.image(width_bytes * 8, rows, data, scale_x, scale_y)
        return 8 + size

    def _column_image(self, pos: int) -> int:
        head = self._need(pos, 5)
        m, columns = head[2], head[3] + 256 * head[4]
        depth = 1 if m in (0, 1) else 3
        data = self._need(pos + 5, columns * depth)
        if columns:
            # Columns of 8 or 24 dots, top bit first: turn them into rows of packed bits.
            width_bytes = (columns + 7) // 8
            rows = bytearray(width_bytes * depth * 8)
            for x in range(columns):
                for k in range(depth):
                    byte = data[x * depth + k]
                    for bit in range(8):
                        if byte & (0x80 >> bit):
                            y = k * 8 + bit
                            rows[y * width_bytes + x // 8] |= 0x80 >> (x % 8)
            self.builder.image(width_bytes * 8, depth * 8, bytes(rows), 1, 1)
        return 5 + columns * depth

    def _user_characters(self, pos: int) -> int:
        head = self._need(pos, 5)
        y, first, last = head[2], head[3], head[4]
        cursor = pos + 5
        for _ in range(max(0, last - first + 1)):
            x = self._need(cursor, 1)[0]
            cursor += 1 + len(self._need(cursor + 1, y * x))
        return cursor - pos

    def _barcode(self, pos: int) -> int:
        m = self._need(pos, 3)[2]
        if m <= 6:
            end = self._buf.find(b"\x00", pos + 3)
            if end < 0:
                if len(self._buf) - pos > 300:
                    return self._skip(pos, 3, "barcode without NUL")
                raise NeedMore
            return end + 1 - pos
        n = self._need(pos, 4)[3]
        return 4 + len(self._need(pos + 4, n))

    def _two_d_code(self, params: bytes) -> None:
        if len(params) < 2:
            logger.warning("GS ( k with %d parameter byte(s) ignored", len(params))
            return
        cn, fn, rest = params[0], params[1], params[2:]
        if cn != 49:
            logger.info("2D symbol type %d is not drawn by the simulator", cn)
            return
        b = self.builder
        if fn == 65 and rest:  # model
            b.qr_model({49: 1, 50: 2, 51: 3}.get(rest[0], 2))
        elif fn == 67 and rest:  # module size
            b.qr_module_size(max(1, min(16, rest[0])))
        elif fn == 69 and rest:  # error correction level
            b.qr_error_level(QR_ERROR_LEVELS.get(rest[0], "L"))
        elif fn == 80 and rest:  # store data (after m = 48)
            b.qr_store(bytes(rest[1:]))
        elif fn == 81:  # print
            b.qr_print()

    def _graphics_function(self, params: bytes) -> None:
        if len(params) < 2:
            return
        fn = params[1]
        if fn == 112 and len(params) >= 10:  # store raster graphics
            scale_x, scale_y = params[3], params[4]
            width, height = params[6] + 256 * params[7], params[8] + 256 * params[9]
            data = bytes(params[10:])
            if len(data) == (width + 7) // 8 * height:
                self._graphics = ((width + 7) // 8 * 8, height, data, scale_x, scale_y)
            else:
                logger.warning("GS ( L graphics with inconsistent size ignored")
        elif fn in (50, 2) and self._graphics is not None:  # print stored graphics
            width, height, data, scale_x, scale_y = self._graphics
            self.builder.image(width, height, data, max(1, scale_x), max(1, scale_y))
            self._graphics = None
