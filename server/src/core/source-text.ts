/**
 * Bytes <-> text for files the analysis reads and the fixer writes: detects binary content, the UTF-8 byte-order
 * mark, PEP 263 coding cookies and line endings, decodes, and re-encodes fixed text the way the file was stored.
 * Pure functions over buffers; knows nothing of the file system, rules or output.
 *
 * Policy (documented in the README): a file with a NUL byte is binary and skipped. Valid UTF-8 (with or without a
 * BOM) is read exactly and can be fixed. Anything else is still analysed, decoded with the encoding its coding
 * cookie names when the runtime knows it, else leniently as UTF-8 with U+FFFD for bad bytes; such files are never
 * written back, because re-encoding could change bytes the fix did not touch.
 */

export type LineEnding = 'lf' | 'crlf' | 'mixed' | 'none';

export interface DecodedSource {
  text: string;
  /** The file started with a UTF-8 BOM (removed from `text`). */
  bom: boolean;
  /** `utf-8`, or the encoding the text was decoded with. */
  encoding: string;
  /** False when the text is not an exact decoding of the bytes (bad UTF-8 replaced by U+FFFD). */
  exact: boolean;
  /** True when fixes may be written back: exact UTF-8. */
  writable: boolean;
  lineEnding: LineEnding;
}

export type DecodeResult = { ok: true; source: DecodedSource; warning?: string } | { ok: false; reason: string };

const BOM = [0xef, 0xbb, 0xbf];

/** A NUL byte anywhere in the first 8 KiB marks a binary file, as git does. */
export function looksBinary(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length, 8192);
  for (let i = 0; i < end; i++) if (bytes[i] === 0) return true;
  return false;
}

export function detectLineEnding(text: string): LineEnding {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length;
  if (lf === 0) return 'none';
  if (crlf === lf) return 'crlf';
  if (crlf === 0) return 'lf';
  return 'mixed';
}

/** The encoding a PEP 263 cookie on line 1 or 2 names (`# -*- coding: latin-1 -*-`), lower-cased. */
export function codingCookie(bytes: Uint8Array): string | undefined {
  const head = Buffer.from(bytes.subarray(0, 400)).toString('latin1');
  const lines = head.split(/\r?\n|\r/).slice(0, 2);
  for (const line of lines) {
    const m = /^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)/.exec(line);
    if (m) return m[1].toLowerCase();
    // Only a comment or blank first line lets the cookie sit on line 2 (PEP 263).
    if (!/^[ \t\f]*(#.*)?$/.test(line)) break;
  }
  return undefined;
}

export function decodeSource(bytes: Uint8Array, binaryCheck = true): DecodeResult {
  if (binaryCheck && looksBinary(bytes)) return { ok: false, reason: 'binary file (contains NUL bytes); skipped' };
  const bom = bytes.length >= 3 && bytes[0] === BOM[0] && bytes[1] === BOM[1] && bytes[2] === BOM[2];
  const body = bom ? bytes.subarray(3) : bytes;
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    return { ok: true, source: { text, bom, encoding: 'utf-8', exact: true, writable: true, lineEnding: detectLineEnding(text) } };
  } catch {
    // Not UTF-8: fall through to the cookie or a lenient decoding.
  }
  const cookie = codingCookie(body);
  if (cookie && !/^utf-?8/.test(cookie)) {
    try {
      const text = new TextDecoder(pythonToWhatwgLabel(cookie), { fatal: true }).decode(body);
      return {
        ok: true,
        source: { text, bom, encoding: cookie, exact: true, writable: false, lineEnding: detectLineEnding(text) },
        warning: `decoded as ${cookie} (its coding declaration); analysed, but fixes are not written to it`,
      };
    } catch {
      // Unknown label or bytes invalid in it: decode leniently below.
    }
  }
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(body);
  return {
    ok: true,
    source: { text, bom, encoding: 'utf-8', exact: false, writable: false, lineEnding: detectLineEnding(text) },
    warning: 'not valid UTF-8; analysed with invalid bytes replaced, and fixes are not written to it',
  };
}

/** Python spells some encodings differently from the WHATWG labels TextDecoder knows. */
function pythonToWhatwgLabel(name: string): string {
  const n = name.replace(/_/g, '-');
  if (/^(latin-?1|iso-?8859-?1|l1)$/.test(n)) return 'iso-8859-1';
  if (/^cp-?1252$/.test(n)) return 'windows-1252';
  return n;
}

/**
 * Encodes fixed text the way the original was stored: the BOM kept, and when the original used CRLF throughout,
 * line breaks the fix inserted as bare LF become CRLF too (a file with mixed endings is left as the fix made it).
 */
export function encodeSource(text: string, original: Pick<DecodedSource, 'bom' | 'lineEnding'>): Buffer {
  let out = text;
  if (original.lineEnding === 'crlf') out = out.replace(/\r?\n/g, '\r\n');
  const body = Buffer.from(out, 'utf8');
  return original.bom ? Buffer.concat([Buffer.from(BOM), body]) : body;
}
