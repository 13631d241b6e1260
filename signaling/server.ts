// One signaling peer: validates each request at the boundary, calls the session's room and
// answers exactly once. Transport-agnostic: the HTTP/WebSocket layer feeds text in and
// gives a `send` that is a no-op once the socket is gone (a client may vanish mid-request).
import { randomUUID } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { moduleLogger } from '../src/log.ts';
import { checkClientJson } from '../src/util/json.ts';
import {
  MAX_SIGNAL_MESSAGE_BYTES,
  requestSchema,
  type ConsumeResponse,
  type JoinResponse,
  type ProduceResponse,
  type Role,
  type ServerStats,
  type SignalErrorCode,
  type SignalNotification,
  type SignalResponse,
  type TransportResponse,
} from './protocol.ts';

const log = moduleLogger('signaling/server');

/** What a signaling peer needs of a session's mediasoup room. */
export interface SignalingRoom {
  readonly rtpCapabilities: ms.RtpCapabilities;
  readonly hasPublisher: boolean;
  addPeer(info: { id: string; role: Role }): void;
  removePeer(peerId: string): void;
  createTransport(peerId: string, direction: 'send' | 'recv'): Promise<TransportResponse>;
  connectTransport(peerId: string, transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void>;
  produceMic(peerId: string, transportId: string, rtpParameters: ms.RtpParameters): Promise<string>;
  consume(peerId: string, transportId: string, rtpCapabilities: ms.RtpCapabilities): Promise<ConsumeResponse['consumers']>;
  resumeConsumers(peerId: string): Promise<void>;
}

export interface SignalingSession {
  readonly id: string;
  readonly room: SignalingRoom;
  stats(): ServerStats;
}

/** Errors carrying a protocol code (the rtc layer's RtcError has the same shape). */
interface CodedError {
  code: string;
  message: string;
}

const KNOWN_CODES = new Set<SignalErrorCode>(['bad-request', 'not-joined', 'forbidden', 'unknown-transport', 'producer-exists', 'unsupported', 'limit', 'too-large', 'internal']);

export class SignalingPeer {
  readonly id = randomUUID();
  readonly role: Role;
  readonly #session: SignalingSession;
  readonly #send: (text: string) => void;
  #joined = false;
  #closed = false;

  constructor(session: SignalingSession, role: Role, send: (text: string) => void) {
    this.#session = session;
    this.role = role;
    this.#send = send;
  }

  get closed(): boolean {
    return this.#closed;
  }

  notify(n: SignalNotification): void {
    if (!this.#closed) this.#send(JSON.stringify(n));
  }

  /** Handles one text message; never throws. */
  async handle(text: string): Promise<void> {
    if (Buffer.byteLength(text) > MAX_SIGNAL_MESSAGE_BYTES) return this.#fail(null, 'bad-request', 'message too large');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return this.#fail(null, 'bad-request', 'message is not JSON');
    }
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : null;
    let parsed: ReturnType<typeof requestSchema.safeParse>;
    try {
      checkClientJson(raw);
      parsed = requestSchema.safeParse(raw);
    } catch (err) {
      // The validator itself failed on this input: still the client's bad request, never this peer's end.
      return this.#fail(id, 'bad-request', `invalid request: ${(err as Error).message}`);
    }
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
      return this.#fail(id, 'bad-request', `invalid request: ${detail}`);
    }
    const req = parsed.data;
    try {
      const data = await this.#dispatch(req);
      this.#reply({ id: req.id, ok: true, data });
    } catch (err) {
      // The client left while we worked: nobody to answer, nothing went wrong here.
      if (this.#closed) return log.debug({ err, method: req.method }, 'request ended after the peer left');
      const coded = err as Partial<CodedError>;
      const code = err instanceof TypeError ? 'bad-request' : typeof coded.code === 'string' && KNOWN_CODES.has(coded.code as SignalErrorCode) ? (coded.code as SignalErrorCode) : 'internal';
      if (code === 'internal') log.error({ err, method: req.method }, 'signaling request failed');
      this.#fail(req.id, code, code === 'internal' ? `internal error: ${(err as Error).message}` : (err as Error).message);
    }
  }

  /** The socket is gone: forget the peer and everything it owned. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#joined) this.#session.room.removePeer(this.id);
  }

  async #dispatch(req: ReturnType<typeof requestSchema.parse>): Promise<unknown> {
    const room = this.#session.room;
    if (req.method === 'join') {
      if (this.#joined) throw { code: 'bad-request', message: 'already joined' } satisfies CodedError;
      room.addPeer({ id: this.id, role: this.role });
      this.#joined = true;
      return { sessionId: this.#session.id, role: this.role, routerRtpCapabilities: room.rtpCapabilities as unknown as Record<string, unknown>, hasPublisher: room.hasPublisher } satisfies JoinResponse;
    }
    if (!this.#joined) throw { code: 'not-joined', message: 'send join first' } satisfies CodedError;
    switch (req.method) {
      case 'createTransport':
        return await room.createTransport(this.id, req.data.direction);
      case 'connectTransport':
        await room.connectTransport(this.id, req.data.transportId, req.data.dtlsParameters as unknown as ms.DtlsParameters);
        return {};
      case 'produce':
        if (this.role !== 'publisher') throw { code: 'forbidden', message: 'viewers cannot produce' } satisfies CodedError;
        return { producerId: await room.produceMic(this.id, req.data.transportId, req.data.rtpParameters as unknown as ms.RtpParameters) } satisfies ProduceResponse;
      case 'consume':
        return { consumers: await room.consume(this.id, req.data.transportId, req.data.rtpCapabilities as unknown as ms.RtpCapabilities) } satisfies ConsumeResponse;
      case 'resumeConsumers':
        await room.resumeConsumers(this.id);
        return {};
      case 'getStats':
        return this.#session.stats();
    }
  }

  #reply(res: SignalResponse): void {
    if (!this.#closed) this.#send(JSON.stringify(res));
  }

  #fail(id: number | null, code: SignalErrorCode, message: string): void {
    if (!this.#closed) this.#send(JSON.stringify({ id, ok: false, error: { code, message } }));
  }
}
