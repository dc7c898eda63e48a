// Splits the output of PostgreSQL's `COPY ... TO STDOUT (FORMAT binary)` into rows, without building an object per
// row or field: the verifier and the export read a million rows, and pg's row protocol parsing in JavaScript was
// about a third of their time. Format: https://www.postgresql.org/docs/current/sql-copy.html ("Binary Format").
// Pure: no database, no server-only.

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const HEADER = SIGNATURE.length + 8; // signature, flags, header extension length

/**
 * One row as field spans in `buf`: field i is buf[start[i], end[i]), or SQL NULL when start[i] is -1. The arrays are
 * reused for the next row: copy what must outlive the call.
 */
export type RowHandler = (buf: Buffer, start: Int32Array, end: Int32Array) => void;

export class CopyBinaryReader {
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** Rows handed to the handler so far. */
  rows = 0;
  private pending: Buffer | null = null;
  private header = false;
  private trailer = false;

  constructor(
    private readonly fields: number,
    private readonly onRow: RowHandler,
  ) {
    this.start = new Int32Array(fields);
    this.end = new Int32Array(fields);
  }

  /** Feeds the next chunk of the stream, in order. Chunks may split rows anywhere. */
  push(chunk: Buffer): void {
    if (this.trailer) {
      if (chunk.length) throw new Error("COPY data after the end marker");
      return;
    }
    let buf = chunk;
    let pos = 0;
    if (this.pending) {
      // Complete the row cut at the end of the previous chunk with as little of this one as it needs, so chunks are
      // not copied whole. Rows are small; a row longer than the window is joined the slow way.
      const head = this.pending;
      const window = Buffer.concat([head, chunk.subarray(0, Math.min(chunk.length, 16384))]);
      const used = this.parse(window, 0, 1);
      if (used > head.length) {
        this.pending = null;
        pos = used - head.length;
      } else if (window.length === head.length + chunk.length) {
        this.pending = window;
        return;
      } else {
        buf = Buffer.concat([head, chunk]);
        this.pending = null;
      }
    }
    const used = this.parse(buf, pos, Infinity);
    this.pending = used < buf.length ? buf.subarray(used) : null;
  }

  /** Call after the last chunk: a stream cut short is an error, never a shorter result. */
  finish(): void {
    if (!this.trailer) throw new Error("the COPY stream ended before its end marker");
  }

  /** Parses up to `max` complete rows from buf[pos..]; returns the offset after the last complete one. */
  private parse(buf: Buffer, pos: number, max: number): number {
    const len = buf.length;
    if (!this.header) {
      if (len - pos < HEADER) return pos;
      if (buf.compare(SIGNATURE, 0, SIGNATURE.length, pos, pos + SIGNATURE.length) !== 0) throw new Error("not a binary COPY stream");
      const extension = buf.readUInt32BE(pos + SIGNATURE.length + 4);
      if (len - pos < HEADER + extension) return pos;
      pos += HEADER + extension;
      this.header = true;
    }
    const { start, end, fields } = this;
    for (let n = 0; n < max; n++) {
      if (len - pos < 2) return pos;
      const count = buf.readInt16BE(pos);
      if (count === -1) {
        this.trailer = true;
        if (pos + 2 !== len) throw new Error("COPY data after the end marker");
        return len;
      }
      if (count !== fields) throw new Error(`a COPY row has ${count} fields, expected ${fields}`);
      let p = pos + 2;
      for (let i = 0; i < fields; i++) {
        if (len - p < 4) return pos;
        const size = buf.readInt32BE(p);
        p += 4;
        if (size < 0) {
          start[i] = -1;
          end[i] = -1;
        } else {
          if (len - p < size) return pos;
          start[i] = p;
          p += size;
          end[i] = p;
        }
      }
      this.onRow(buf, start, end);
      this.rows += 1;
      pos = p;
    }
    return pos;
  }
}
