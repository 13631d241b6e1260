// The facecast server: uWebSockets.js serving the demo page, the JSON API, the signaling
// WebSocket and the TTS ingest WebSocket, over the session manager.
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket, WebSocket } from 'uWebSockets.js';
import { z } from 'zod';
import { moduleLogger } from '../log.ts';
import { loadUws } from './uws.ts';
import { HttpError, guard, readJson, sendError, sendFile, sendJson } from './http.ts';
import { TokenError, TokenSigner, type TokenRole } from './tokens.ts';
import type { ServerConfig } from './config.ts';
import { SessionLimitError, SessionManager, UnknownAvatarError } from '../session/manager.ts';
import { CapacityError, RETRY_AFTER_S } from '../session/capacity.ts';
import { AvatarUnavailableError, type AvatarRegistry } from '../session/avatars.ts';
import { AvatarsApi } from './avatars-api.ts';
import type { AvatarSession } from '../session/session.ts';
import { SignalingPeer } from '../../signaling/server.ts';
import { MAX_SIGNAL_MESSAGE_BYTES, SIGNAL_WIRE_LIMIT_BYTES } from '../../signaling/protocol.ts';
import { INGEST_WIRE_LIMIT_BYTES, MAX_INGEST_MESSAGE_BYTES, type IngestReply } from '../../signaling/ingest-protocol.ts';
import { TtsIngest } from '../ingest/tts.ts';
import { metrics } from '../metrics/index.ts';
import { processCpuSeconds } from '../util/proc.ts';

const log = moduleLogger('server/app');
const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const CLIENT_DIR = join(ROOT, 'client-demo');
const MIME: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json', '.png': 'image/png' };

const createSessionSchema = z
  .object({
    avatar: z.string().min(1).max(128).optional(),
    /** False: only the mouth moves (no blinks, breathing, sway, planned expression). Default true. */
    life: z.boolean().optional(),
    /** Directions for the director from the start ("nod when you agree, keep a serious face"). */
    instructions: z.array(z.string().min(1).max(2_000)).max(16).optional(),
  })
  .strict();
const instructionSchema = z.object({ text: z.string().min(1).max(2_000) }).strict();

interface SignalData {
  kind: 'signal';
  session: AvatarSession;
  role: 'publisher' | 'viewer';
  peer: SignalingPeer | null;
  open: boolean;
  untie?: () => void;
}
interface IngestData {
  kind: 'ingest';
  session: AvatarSession;
  format: ReturnType<typeof TtsIngest.parseFormatFromQuery>;
  ingest: TtsIngest | null;
  open: boolean;
  untie?: () => void;
}
type WsData = SignalData | IngestData;

/** The mediasoup workers as health and metrics see them (rtc/worker-pool.ts). */
export interface MediaWorkers {
  readonly pids: number[];
  readonly healthy: boolean;
  readonly respawns: number;
}

const INGEST_BUSY = (sessionId: string): string =>
  `session ${sessionId} already has a TTS ingest socket open: a session has one turn timeline, so send every turn on that socket (or close it first)`;

export class FacecastServer {
  readonly config: ServerConfig;
  readonly sessions: SessionManager;
  readonly #tokens: TokenSigner;
  readonly #app: TemplatedApp;
  readonly #uws = loadUws();
  readonly #started = Date.now();
  readonly #sockets = new Set<WebSocket<WsData>>();
  #listenSocket: us_listen_socket | null = null;
  #port = 0;
  readonly #workers: MediaWorkers;
  readonly #avatars: AvatarsApi;

  constructor(config: ServerConfig, sessions: SessionManager, workers: MediaWorkers, avatars: AvatarRegistry) {
    this.config = config;
    this.sessions = sessions;
    this.#workers = workers;
    this.#tokens = new TokenSigner(config.tokenSecret, config.tokenTtlS);
    this.#avatars = new AvatarsApi({ config, registry: avatars, baseUrl: () => this.baseUrl, requireApiKey: (auth) => this.#requireApiKey(auth) });
    this.#app = this.#uws.App();
    this.#routes();
    this.#gauges();
  }

  /** The server's figures, read when /metrics is scraped. */
  #gauges(): void {
    metrics.gauge('facecast_sessions', 'Sessions running', [], (set) => set({}, this.sessions.size));
    metrics.gauge('facecast_capacity_sessions', 'Sessions this server serves in real time (stated, or measured: render probe, then CPU per session)', [], (set) => set({}, this.sessions.capacity.sessions));
    metrics.gauge('facecast_session_cost_cores', 'Cores one talking session costs, as the capacity estimates it (render probe, then measured)', [], (set) => {
      const per = this.sessions.capacity.figures.perSessionCores;
      if (per !== null) set({}, per);
    });
    metrics.gauge('facecast_viewers', 'Viewers connected, all sessions', [], (set) => set({}, this.sessions.list().reduce((n, x) => n + x.room.viewerCount, 0)));
    metrics.gauge('facecast_session_late_frames', 'Frames repeated because not ready, per running session, since it started', ['session'], (set) => {
      for (const x of this.sessions.list()) set({ session: x.id }, x.stats().lateFrames);
    });
    metrics.gauge('facecast_worker_cpu_seconds', 'CPU time used so far by each worker: mediasoup worker processes, render threads (one per loaded avatar)', ['kind', 'id'], (set) => {
      for (const pid of this.#workers.pids) {
        const cpu = processCpuSeconds(pid);
        if (cpu !== null) set({ kind: 'mediasoup', id: String(pid) }, cpu);
      }
      for (const id of this.sessions.loadedAvatarIds) {
        const cpu = this.sessions.renderStats(id)?.cpuS;
        if (cpu != null) set({ kind: 'render', id }, cpu);
      }
    });
  }

  get port(): number {
    return this.#port;
  }

  get baseUrl(): string {
    return `http://${this.config.host}:${this.#port}`;
  }

  listen(): Promise<number> {
    return new Promise((resolvePort, reject) => {
      this.#app.listen(this.config.host, this.config.port, (socket) => {
        if (!socket) {
          reject(new Error(`cannot listen on ${this.config.host}:${this.config.port} (in use or not permitted)`));
          return;
        }
        this.#listenSocket = socket;
        this.#port = this.#uws.us_socket_local_port(socket);
        resolvePort(this.#port);
      });
    });
  }

  async close(): Promise<void> {
    if (this.#listenSocket) this.#uws.us_listen_socket_close(this.#listenSocket);
    this.#listenSocket = null;
    for (const ws of [...this.#sockets]) ws.end(1001, 'server shutting down');
    await this.#avatars.close();
    await this.sessions.close();
  }

  /** Issues the tokens and links for a session. */
  sessionGrant(session: AvatarSession) {
    const publisherToken = this.#tokens.sign(session.id, 'publisher');
    const viewerToken = this.#tokens.sign(session.id, 'viewer');
    const ingestToken = this.#tokens.sign(session.id, 'ingest');
    const q = (t: string) => `session=${session.id}&token=${encodeURIComponent(t)}`;
    const ws = this.baseUrl.replace(/^http/, 'ws');
    return {
      sessionId: session.id,
      avatar: session.options.avatarId,
      publisherToken,
      viewerToken,
      ingestToken,
      urls: {
        publish: `${this.baseUrl}/?${q(publisherToken)}&viewerToken=${encodeURIComponent(viewerToken)}`,
        view: `${this.baseUrl}/view?${q(viewerToken)}`,
        signal: `${ws}/signal?${q(publisherToken)}`,
        ingest: `${ws}/ingest?${q(ingestToken)}`,
      },
    };
  }

  #routes(): void {
    const app = this.#app;
    app.get('/', (res, req) => this.#static(res, req, 'index.html'));
    app.get('/view', (res, req) => this.#static(res, req, 'index.html'));
    app.get('/style.css', (res, req) => this.#static(res, req, 'style.css'));
    app.get('/dist/*', (res, req) => this.#static(res, req, req.getUrl().slice(1)));

    app.get('/api/health', (res) => {
      const s = guard(res);
      // Not ok while a dead mediasoup worker is being replaced (503, so that a load balancer looks elsewhere).
      const ok = this.#workers.healthy;
      sendJson(res, s, ok ? 200 : 503, {
        ok,
        workerRespawns: this.#workers.respawns,
        sessions: this.sessions.size,
        uptimeS: Math.round((Date.now() - this.#started) / 1000),
        workers: this.#workers.pids,
        avatars: this.sessions.loadedAvatarIds,
        enrollment: this.#avatars.jobs.stats,
        capacity: this.sessions.capacity.figures,
        eventLoopDelayMs: { p99: Number((metrics.eventLoopDelay.percentile(99) / 1e6).toFixed(1)), max: Number((metrics.eventLoopDelay.max / 1e6).toFixed(1)) },
      });
    });
    app.get('/metrics', (res) => {
      const s = guard(res);
      metrics.text().then(
        (text) => sendFile(res, s, metrics.contentType, Buffer.from(text)),
        (err: unknown) => sendError(res, s, err),
      );
    });
    this.#avatars.routes(app);
    app.post('/api/sessions', (res, req) => {
      const s = guard(res);
      const auth = req.getHeader('authorization');
      const length = req.getHeader('content-length');
      void (async () => {
        try {
          this.#requireApiKey(auth);
          const body = createSessionSchema.safeParse(await readJson(res, s, 16 * 1024, length));
          if (!body.success) throw new HttpError(400, 'bad-request', `invalid body: ${body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
          const session = await this.sessions.create(body.data.avatar ?? 'astronaut', { life: body.data.life });
          if (s.aborted) {
            await session.close();
            return;
          }
          const understood = (body.data.instructions ?? []).map((text) => session.instruction(text));
          sendJson(res, s, 201, { ...this.sessionGrant(session), ...(understood.length ? { instructions: understood } : {}) });
        } catch (err) {
          if (err instanceof UnknownAvatarError) return sendError(res, s, new HttpError(404, 'unknown-avatar', err.message));
          if (err instanceof AvatarUnavailableError) return sendError(res, s, new HttpError(404, 'avatar-unavailable', err.message));
          if (err instanceof CapacityError) {
            metrics.refusals.inc({ reason: 'at-capacity' });
            return sendError(res, s, new HttpError(503, 'at-capacity', err.message, { 'Retry-After': String(err.retryAfterS) }));
          }
          if (err instanceof SessionLimitError) {
            metrics.refusals.inc({ reason: 'session-limit' });
            return sendError(res, s, new HttpError(503, 'session-limit', err.message, { 'Retry-After': String(RETRY_AFTER_S) }));
          }
          sendError(res, s, err);
        }
      })();
    });
    app.get('/api/sessions/:id', (res, req) => {
      const s = guard(res);
      try {
        const session = this.#session(req.getParameter(0) ?? '');
        this.#requireKeyOrToken(req.getHeader('authorization'), req.getQuery('token') ?? '', session.id, ['publisher', 'viewer', 'ingest']);
        sendJson(res, s, 200, {
          sessionId: session.id,
          avatar: session.options.avatarId,
          createdAt: session.createdAt.toISOString(),
          hasPublisher: session.room.hasPublisher,
          ...session.details(),
          render: this.sessions.renderStats(session.options.avatarId),
        });
      } catch (err) {
        sendError(res, s, err);
      }
    });
    app.post('/api/sessions/:id/instructions', (res, req) => {
      const s = guard(res);
      const auth = req.getHeader('authorization');
      const token = req.getQuery('token') ?? '';
      const length = req.getHeader('content-length');
      const id = req.getParameter(0) ?? '';
      void (async () => {
        try {
          const session = this.#session(id);
          this.#requireKeyOrToken(auth, token, session.id, ['publisher', 'ingest']);
          const body = instructionSchema.safeParse(await readJson(res, s, 8 * 1024, length));
          if (!body.success) throw new HttpError(400, 'bad-request', 'body must be {"text": "..."}');
          sendJson(res, s, 200, { understood: session.instruction(body.data.text) });
        } catch (err) {
          sendError(res, s, err);
        }
      })();
    });
    app.get('/api/sessions/:id/director', (res, req) => {
      const s = guard(res);
      try {
        const session = this.#session(req.getParameter(0) ?? '');
        this.#requireKeyOrToken(req.getHeader('authorization'), req.getQuery('token') ?? '', session.id, ['publisher', 'viewer', 'ingest']);
        const limit = Math.min(50, Math.max(1, Number(req.getQuery('limit') ?? 10) || 10));
        const d = session.director;
        sendJson(res, s, 200, { metrics: d.metrics, latestPlan: d.latestPlan ?? null, instructions: session.instructions, trace: d.trace(limit) });
      } catch (err) {
        sendError(res, s, err);
      }
    });
    app.del('/api/sessions/:id', (res, req) => {
      const s = guard(res);
      const auth = req.getHeader('authorization');
      const id = req.getParameter(0) ?? '';
      void (async () => {
        try {
          this.#requireApiKey(auth);
          this.#session(id);
          await this.sessions.end(id);
          sendJson(res, s, 200, { ended: true });
        } catch (err) {
          sendError(res, s, err);
        }
      })();
    });
    app.any('/api/*', (res) => sendJson(res, guard(res), 404, { error: { code: 'not-found', message: 'no such API route' } }));

    app.ws<WsData>('/signal', {
      // Read up to the wire limit, so that a message over the protocol's limit gets its too-large answer (a larger
      // one is dropped by the WebSocket layer with 1006).
      maxPayloadLength: SIGNAL_WIRE_LIMIT_BYTES,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => this.#upgrade(res, req, context, 'signal'),
      open: (ws) => {
        this.#tieToSession(ws);
        const data = ws.getUserData();
        if (data.kind !== 'signal') return;
        const peer = new SignalingPeer(data.session, data.role, (text) => {
          if (data.open) ws.send(text, false);
        });
        data.peer = peer;
        const untieMoved = data.session.onRoomMoved(() => {
          if (!data.open) return;
          peer.notify({ notification: 'reconnect', data: { reason: 'the media worker of this session restarted: join again' } });
          ws.end(1012, 'media worker restarted');
        });
        const untie = data.untie;
        data.untie = () => {
          untie?.();
          untieMoved();
        };
        log.debug({ session: data.session.id, role: data.role, peer: data.peer.id }, 'signaling open');
      },
      message: (ws, message, isBinary) => {
        const data = ws.getUserData();
        if (data.kind !== 'signal' || !data.peer) return;
        if (message.byteLength > MAX_SIGNAL_MESSAGE_BYTES) {
          ws.send(JSON.stringify({ id: null, ok: false, error: { code: 'too-large', message: `signaling messages are at most ${MAX_SIGNAL_MESSAGE_BYTES} bytes; this one had ${message.byteLength}` } }), false);
          ws.end(1009, 'message too large');
          return;
        }
        if (isBinary) {
          ws.send(JSON.stringify({ id: null, ok: false, error: { code: 'bad-request', message: 'signaling takes text messages' } }), false);
          return;
        }
        void data.peer.handle(Buffer.from(message).toString('utf8'));
      },
      close: (ws) => {
        this.#sockets.delete(ws);
        const data = ws.getUserData();
        data.open = false;
        data.untie?.();
        if (data.kind === 'signal') data.peer?.close();
      },
    });

    app.ws<WsData>('/ingest', {
      maxPayloadLength: INGEST_WIRE_LIMIT_BYTES,
      idleTimeout: 120,
      sendPingsAutomatically: true,
      maxBackpressure: 4 * 1024 * 1024,
      upgrade: (res, req, context) => this.#upgrade(res, req, context, 'ingest'),
      open: (ws) => {
        this.#tieToSession(ws);
        const data = ws.getUserData();
        if (data.kind !== 'ingest') return;
        const reply = (r: IngestReply) => {
          if (data.open) ws.send(JSON.stringify(r), false);
        };
        // Checked at the upgrade too (409); this catches two upgrades racing for the same session.
        if (!data.session.claimIngest()) {
          reply({ type: 'error', code: 'ingest-busy', message: INGEST_BUSY(data.session.id) });
          ws.end(4409, 'ingest-busy');
          return;
        }
        data.ingest = new TtsIngest(data.session, data.format, reply);
      },
      message: (ws, message, isBinary) => {
        const data = ws.getUserData();
        if (data.kind !== 'ingest' || !data.ingest) return;
        if (message.byteLength > MAX_INGEST_MESSAGE_BYTES) {
          // The socket closes: what it sent so far stays queued and its turn ends after it (TtsIngest.close).
          ws.send(JSON.stringify({ type: 'error', code: 'too-large', message: `ingest messages are at most ${MAX_INGEST_MESSAGE_BYTES} bytes (send a long turn in several); this one had ${message.byteLength}` } satisfies IngestReply), false);
          ws.end(1009, 'message too large');
          return;
        }
        if (isBinary) void data.ingest.onBinary(new Uint8Array(message));
        else void data.ingest.onText(Buffer.from(message).toString('utf8'));
      },
      close: (ws) => {
        this.#sockets.delete(ws);
        const data = ws.getUserData();
        data.open = false;
        data.untie?.();
        if (data.kind === 'ingest' && data.ingest) {
          data.ingest.close();
          data.session.releaseIngest();
        }
      },
    });

    app.any('/*', (res) => sendJson(res, guard(res), 404, { error: { code: 'not-found', message: 'not found' } }));
  }

  /** The socket closes when its session ends (a sessionClosed notice goes first). */
  #tieToSession(ws: WebSocket<WsData>): void {
    this.#sockets.add(ws);
    const data = ws.getUserData();
    data.open = true;
    const onEnd = () => {
      if (!data.open) return;
      if (data.kind === 'signal') data.peer?.notify({ notification: 'sessionClosed', data: { reason: 'session ended' } });
      else ws.send(JSON.stringify({ type: 'error', code: 'closed', message: 'session ended' }), false);
      ws.end(1000, 'session ended');
    };
    if (data.session.closed) return onEnd();
    // Removed when the socket closes first: a session outlives many sockets, and its signal must not collect them.
    const signal = data.session.closeSignal;
    signal.addEventListener('abort', onEnd, { once: true });
    data.untie = () => signal.removeEventListener('abort', onEnd);
  }

  #upgrade(res: HttpResponse, req: HttpRequest, context: unknown, kind: 'signal' | 'ingest'): void {
    const s = guard(res);
    try {
      const session = this.#session(req.getQuery('session') ?? '');
      const roles: TokenRole[] = kind === 'signal' ? ['publisher', 'viewer'] : ['ingest'];
      const claims = this.#verify(req.getQuery('token') ?? '', session.id, roles);
      const common = { session, open: false };
      let data: WsData;
      if (kind === 'signal') {
        data = { kind, ...common, role: claims.role as 'publisher' | 'viewer', peer: null };
      } else {
        let format;
        try {
          format = TtsIngest.parseFormatFromQuery(req.getQuery('encoding') ?? '', req.getQuery('sampleRate') ?? '');
        } catch {
          throw new HttpError(400, 'bad-request', 'encoding must be pcm16 or opus and sampleRate 16000, 24000 or 48000');
        }
        if (session.ingestOpen) throw new HttpError(409, 'ingest-busy', INGEST_BUSY(session.id));
        data = { kind, ...common, format, ingest: null };
      }
      res.cork(() => {
        res.upgrade<WsData>(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context as never);
      });
    } catch (err) {
      sendError(res, s, err);
    }
  }

  #session(id: string): AvatarSession {
    const session = this.sessions.get(id);
    if (!session) throw new HttpError(404, 'unknown-session', `no session '${id.slice(0, 64)}'`);
    return session;
  }

  #verify(token: string, sid: string, roles: readonly TokenRole[]) {
    if (!token) throw new HttpError(401, 'no-token', 'a session token is required');
    try {
      return this.#tokens.verify(token, sid, roles);
    } catch (err) {
      if (err instanceof TokenError) throw new HttpError(err.message.startsWith('token role') ? 403 : 401, 'bad-token', err.message);
      throw err;
    }
  }

  #requireApiKey(auth: string): void {
    if (auth !== `Bearer ${this.config.apiKey}`) throw new HttpError(401, 'bad-key', 'Authorization: Bearer <api key> required');
  }

  #requireKeyOrToken(auth: string, token: string, sid: string, roles: readonly TokenRole[]): void {
    if (auth === `Bearer ${this.config.apiKey}`) return;
    this.#verify(token || auth.replace(/^Bearer /, ''), sid, roles);
  }

  #static(res: HttpResponse, req: HttpRequest, rel: string): void {
    const s = guard(res);
    void req;
    const path = normalize(join(CLIENT_DIR, rel));
    if (!path.startsWith(CLIENT_DIR)) return sendError(res, s, new HttpError(404, 'not-found', 'not found'));
    readFile(path)
      .then((body) => sendFile(res, s, MIME[extname(path)] ?? 'application/octet-stream', body))
      .catch(() => sendError(res, s, new HttpError(404, 'not-found', rel.startsWith('dist/') ? 'client not built: run npm run build:client' : 'not found')));
  }
}
