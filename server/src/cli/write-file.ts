/**
 * Writes a fixed file back atomically: the new bytes go to a temporary file in the same folder, which then
 * replaces the original with a rename, so a crash never leaves a half-written source. Keeps the original's BOM,
 * CRLF line endings (see source-text.ts) and permission bits, and refuses to write when the file changed on
 * disk since it was read. Touches no other file.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { encodeSource, type DecodedSource } from '../core/source-text';

export type WriteResult = { ok: true } | { ok: false; reason: string };

export function writeFixedFile(file: string, text: string, original: { source: DecodedSource; bytes: Buffer }): WriteResult {
  if (!original.source.writable) return { ok: false, reason: `not written: the file is not plain UTF-8 (${original.source.encoding})` };
  let current: Buffer;
  let mode: number;
  try {
    current = fs.readFileSync(file);
    mode = fs.statSync(file).mode;
  } catch (err) {
    return { ok: false, reason: `not written: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'deleted during the run' : (err as Error).message}` };
  }
  if (!current.equals(original.bytes)) return { ok: false, reason: 'not written: the file changed on disk during the run' };
  const bytes = encodeSource(text, original.source);
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.jwt-api-security.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx', mode & 0o777);
    try {
      fs.writeFileSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.chmodSync(temp, mode & 0o7777);
    fs.renameSync(temp, file);
    return { ok: true };
  } catch (err) {
    try {
      fs.unlinkSync(temp);
    } catch {
      // The temporary file was never created or is already gone.
    }
    return { ok: false, reason: `not written: ${(err as Error).message}` };
  }
}
