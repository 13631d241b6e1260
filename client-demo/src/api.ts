// HTTP API (signaling/http-api.md): only session creation is needed by the page.

export interface CreatedSession {
  sessionId: string;
  publisherToken: string;
  viewerToken: string;
  ingestToken: string;
  urls: { publish: string; view: string; signal: string; ingest: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** POST /api/sessions with the API key. Throws ApiError (status 0 = server unreachable). */
export async function createSession(apiKey: string, avatar?: string): Promise<CreatedSession> {
  let res: Response;
  try {
    res = await fetch('/api/sessions', {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(avatar ? { avatar } : {}),
    });
  } catch (err) {
    throw new ApiError(0, 'unreachable', `server unreachable (${(err as Error).message})`);
  }
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON (proxy error page, static server, ...): handled below.
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(res.status, e?.code ?? `http-${res.status}`, e?.message ?? res.statusText ?? 'request failed');
  }
  const s = body as Partial<CreatedSession> | null;
  if (!s || typeof s.sessionId !== 'string' || typeof s.publisherToken !== 'string' || typeof s.viewerToken !== 'string') {
    throw new ApiError(res.status, 'bad-response', 'unexpected answer from POST /api/sessions');
  }
  return s as CreatedSession;
}
