// Small helpers for uWebSockets.js HTTP handlers: bounded JSON bodies, JSON answers and
// errors with fitting statuses. Every async handler registers onAborted first (uWS rule).
import type { HttpResponse } from 'uWebSockets.js';
import { parseClientJson } from '../util/json.ts';

const STATUS: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  413: '413 Payload Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Entity',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After on a 503). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** The client closed the connection before its request's body was read. */
export class ClientGoneError extends Error {
  override readonly name = 'ClientGoneError';
  constructor() {
    super('the client went away before its body was read');
  }
}

/** Whether the client went away (late answers are skipped), and what to do when it does (one body reader). */
export interface RequestState {
  aborted: boolean;
  onAbort?: () => void;
}

/** Tracks whether the client went away, so late answers are skipped. */
export function guard(res: HttpResponse): RequestState {
  const state: RequestState = { aborted: false };
  res.onAborted(() => {
    state.aborted = true;
    state.onAbort?.();
  });
  return state;
}

export function sendJson(res: HttpResponse, state: { aborted: boolean }, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (state.aborted) return;
  res.cork(() => {
    res.writeStatus(STATUS[status] ?? `${status} Status`).writeHeader('Content-Type', 'application/json').writeHeader('Cache-Control', 'no-store');
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    res.end(JSON.stringify(body));
  });
}

export function sendError(res: HttpResponse, state: { aborted: boolean }, err: unknown): void {
  if (err instanceof HttpError) return sendJson(res, state, err.status, { error: { code: err.code, message: err.message } }, err.headers);
  sendJson(res, state, 500, { error: { code: 'internal', message: (err as Error).message ?? 'internal error' } });
}

export function sendFile(res: HttpResponse, state: { aborted: boolean }, contentType: string, body: Buffer): void {
  if (state.aborted) return;
  res.cork(() => {
    res.writeStatus('200 OK').writeHeader('Content-Type', contentType).writeHeader('Cache-Control', 'no-cache').end(body);
  });
}

/**
 * Reads the whole body, refusing more than `limit` bytes with 413 before reading it all. Rejects when the client goes
 * away mid-body (ClientGoneError), so that whatever waits on it lets go.
 */
export function readBody(res: HttpResponse, state: RequestState, limit: number, declaredLength: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (state.aborted) return reject(new ClientGoneError());
    state.onAbort = () => reject(new ClientGoneError());
    const declared = Number(declaredLength || 0);
    if (declared > limit) {
      reject(new HttpError(413, 'too-large', `body of ${declared} bytes exceeds the limit of ${limit}`));
      return;
    }
    const parts: Buffer[] = [];
    let size = 0;
    let failed = false;
    res.onData((chunk, isLast) => {
      if (failed || state.aborted) return;
      size += chunk.byteLength;
      if (size > limit) {
        failed = true;
        reject(new HttpError(413, 'too-large', `body exceeds the limit of ${limit} bytes`));
        return;
      }
      parts.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory
      if (isLast) resolve(Buffer.concat(parts));
    });
  });
}

export async function readJson(res: HttpResponse, state: RequestState, limit: number, declaredLength: string): Promise<unknown> {
  const body = await readBody(res, state, limit, declaredLength);
  if (body.length === 0) return {};
  try {
    return parseClientJson(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, 'bad-request', `body is not usable JSON: ${(err as Error).message}`);
  }
}
