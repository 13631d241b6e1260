// JSON from clients (signaling, ingest events, HTTP bodies): refused when a key names the object machinery
// (__proto__, constructor, prototype). No message of the protocols has them, and an object with "constructor": null
// makes the validation library itself throw a TypeError rather than answer (found by the fuzz suite's 100,000-case
// run: on the signaling socket it was an unhandled rejection, which ends a Node process).
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Throws SyntaxError when any object in a parsed JSON value has a forbidden key. */
export function checkClientJson(value: unknown): void {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    for (const key of Object.keys(v)) {
      if (FORBIDDEN.has(key)) throw new SyntaxError(`the key '${key}' is not allowed`);
      stack.push((v as Record<string, unknown>)[key]);
    }
  }
}

/** Parses client JSON; throws SyntaxError for bad JSON and for a forbidden key (callers answer both as bad input). */
export function parseClientJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  checkClientJson(value);
  return value;
}
