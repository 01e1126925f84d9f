// Go's encoding/json refuses a document nested more than 10,000 levels deep ("exceeded max
// depth") before building anything; JSON.parse would build it all. A 10 MB body of `[[[[...`
// made the daemon allocate hundreds of MiB that its heap then kept (found by the API fuzzer),
// where dockerd answers 400 at once. One pass over the text, strings skipped.
export const MAX_JSON_DEPTH = 10_000;

/** The opening bracket that goes past `max` levels, or undefined when the text stays within. */
export function tooDeep(text: string, max = MAX_JSON_DEPTH): string | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return text[i];
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}
