// Reads the script `submit` sends: a regular file, or stdin with `-`, never more than the
// limit. Anything else (a FIFO, /dev/zero, a directory) is refused before a byte is read:
// reading one could block the process for good or fill its memory.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";
import { UserError } from "./errors.ts";
import { formatBytes } from "./units.ts";

/** Why a path that opened is not a script to read; undefined for a regular file. */
function notRegular(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isDirectory()) return "it is a directory";
  if (stats.isFIFO()) return "it is a named pipe (FIFO)";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "it is a device";
  if (stats.isSocket()) return "it is a socket";
  return "it is not a regular file";
}

function openError(path: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  const why =
    code === "ENOENT"
      ? "no such file"
      : code === "EACCES"
        ? "permission denied"
        : code === "ENXIO"
          ? "it is a socket or a device without a reader"
          : String(code ?? error);
  return new UserError(`cannot read script ${path}: ${why}; nothing was submitted`);
}

function tooLarge(what: string, limitBytes: number, why: string): UserError {
  return new UserError(
    `script ${what} is larger than ${formatBytes(limitBytes)}, the most a submission can carry within the server's request limit (${why}); make it smaller; nothing was submitted`,
  );
}

/**
 * The bytes of the regular file at `path`, at most `limitBytes`. Opened without blocking
 * (O_NONBLOCK: a FIFO with no writer would otherwise hang the open) and checked on the open
 * descriptor, so the file checked is the file read.
 */
export function readScriptFile(path: string, limitBytes: number, limitWhy: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw openError(path, error);
  }
  try {
    const stats = fstatSync(fd);
    const why = notRegular(stats);
    if (why)
      throw new UserError(
        `cannot read script ${path}: ${why}; give a regular file, or - to read stdin; nothing was submitted`,
      );
    if (stats.size > limitBytes) throw tooLarge(path, limitBytes, limitWhy);
    // One byte past the limit tells a file that grew since fstat; it may grow up to the limit.
    let buffer = Buffer.alloc(Math.min(stats.size, limitBytes) + 1);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        if (filled > limitBytes) throw tooLarge(path, limitBytes, limitWhy);
        const grown = Buffer.alloc(Math.min(buffer.length * 2, limitBytes + 1));
        buffer.copy(grown);
        buffer = grown;
      }
      const read = readSync(fd, buffer, filled, buffer.length - filled, null);
      if (read === 0) return buffer.subarray(0, filled);
      filled += read;
    }
  } finally {
    closeSync(fd);
  }
}

/** All of `stdin` up to `limitBytes`; more is refused as soon as it arrives, unread. */
export async function readScriptStdin(
  stdin: AsyncIterable<Buffer | string>,
  limitBytes: number,
  limitWhy: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    total += bytes.length;
    // Leaving the loop destroys the stream: /dev/zero on stdin is read no further.
    if (total > limitBytes) throw tooLarge("on stdin", limitBytes, limitWhy);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}
