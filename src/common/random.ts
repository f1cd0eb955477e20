// Random bytes for ids (a job's, a request's correlation id, a listener's), without loading
// node:crypto: in a fresh process that module brings its key, argon2 and WebCrypto parts with
// it, some 5-15 ms of `modulate submit`'s start, more than the rest of what it loads (issue 17).
// /dev/urandom is the kernel's generator, which node:crypto's own randomBytes draws from too;
// where it cannot be read (no such device), node:crypto is loaded after all.
import { closeSync, openSync, readSync } from "node:fs";

/** Bytes read from the kernel at a time and handed out in turn: one read serves many ids. */
const POOL_BYTES = 512;

let pool = Buffer.alloc(0);
let used = 0;

function fill(target: Buffer): void {
  let fd: number | undefined;
  try {
    fd = openSync("/dev/urandom", "r");
    let filled = 0;
    while (filled < target.length) {
      const read = readSync(fd, target, filled, target.length - filled, null);
      if (read <= 0) throw new Error("/dev/urandom gave no bytes");
      filled += read;
    }
  } catch {
    process.getBuiltinModule("node:crypto").randomFillSync(target);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `size` random bytes, from the kernel's generator. */
export function randomBytes(size: number): Buffer {
  if (size > POOL_BYTES) {
    const out = Buffer.alloc(size);
    fill(out);
    return out;
  }
  if (used + size > pool.length) {
    pool = Buffer.alloc(POOL_BYTES);
    fill(pool);
    used = 0;
  }
  // A copy: the pool's bytes are never handed out twice, nor kept by a caller.
  const out = Buffer.from(pool.subarray(used, used + size));
  pool.fill(0, used, used + size);
  used += size;
  return out;
}

/** A version 4 UUID (RFC 9562), as node:crypto's randomUUID makes one. */
export function randomUUID(): string {
  const bytes = randomBytes(16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
