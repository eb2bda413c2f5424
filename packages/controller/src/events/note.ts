/** The API server refuses an Event whose note is longer than 1024 bytes. */
export const NOTE_LIMIT_BYTES = 1024;
/** Room kept for the list of annotations and values, so a long message cannot push it out. */
const WHERE_LIMIT_BYTES = 600;
const ELLIPSIS = '…';

/** Control characters (CR/LF included) and line separators become spaces: a note is one line. */
export function oneLine(text: string): string {
  return text.replace(/\p{Cc}|[\u2028\u2029]/gu, ' ');
}

/** Cuts `text` to at most `maxBytes` of UTF-8, on a code point, marking the cut with `…`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength(ELLIPSIS);
  if (budget < 0) return '';
  let used = 0;
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (used + size > budget) break;
    used += size;
    out += ch;
  }
  return out + ELLIPSIS;
}

/**
 * `message [where; where]` in at most 1024 bytes: the places (annotation and value) keep up to
 * 600 bytes and the message gets the rest, so the note always names what to fix.
 */
export function composeNote(message: string, places: readonly string[]): string {
  const where = places.length
    ? ` [${truncateUtf8(oneLine(places.join('; ')), WHERE_LIMIT_BYTES)}]`
    : '';
  const room = NOTE_LIMIT_BYTES - Buffer.byteLength(where);
  return truncateUtf8(oneLine(message), room) + where;
}
