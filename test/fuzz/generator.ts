// The fuzz suite's case generator: seeded (mulberry32), so a failing case is found again from its seed and index.
// Cases are mostly near-valid (a valid message with one field broken) and sometimes plain garbage, and bounded in
// size (one in 500 HTTP bodies and ingest messages goes just over the documented limit).
import type { RtpHeaderFields } from '../../src/media/rtp.ts';

export interface HttpCase {
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array<ArrayBuffer> | string;
}

const MIB = 1024 * 1024;
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff, 0xe0];
const WEBP = [...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBPVP8 ')];

export class Fuzzer {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }

  /** mulberry32: uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  bytes(n: number): Uint8Array<ArrayBuffer> {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }

  /** A JSON value of some shape: the kinds of wrong a client sends. */
  value(depth = 0): unknown {
    switch (this.int(depth > 2 ? 6 : 9)) {
      case 0:
        return null;
      case 1:
        return this.next() < 0.5;
      case 2:
        return this.pick([0, -1, 1e308, 2 ** 53, 0.5, NaN, 16_000, 24_000, 48_000]);
      case 3:
        return this.pick(['', 'pcm16', 'opus', 'astronaut', '../../etc/passwd', 'x'.repeat(this.int(3000)), '\u0000\uffff', '<script>']);
      case 4:
        return String.fromCharCode(...Array.from({ length: this.int(40) }, () => this.int(0xd7ff)));
      case 5:
        return this.int(1000) - 500;
      case 6:
        return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(5); i > 0; i--) o[this.pick(['avatar', 'instructions', 'life', 'type', 'text', 'id', 'data', '__proto__', 'constructor', 'x'])] = this.value(depth + 1);
        return o;
      }
    }
  }

  httpCase(key: string): HttpCase {
    const auth: Record<string, string> = this.next() < 0.9 ? { authorization: `Bearer ${key}` } : this.next() < 0.5 ? {} : { authorization: this.pick(['Bearer', 'Basic x', `Bearer ${key}x`]) };
    switch (this.int(5)) {
      case 0: {
        const body = this.next() < 0.5 ? JSON.stringify(this.value()) : Buffer.from(this.bytes(this.int(2000))).toString('latin1');
        return { label: 'POST /api/sessions', method: 'POST', path: '/api/sessions', headers: { ...auth, 'content-type': 'application/json' }, body };
      }
      case 1: {
        const magic = this.pick([PNG, JPEG, WEBP, []]);
        const size = this.int(500) === 0 ? 20 * MIB + 1 : this.int(64 * 1024);
        const body = new Uint8Array(size);
        body.set(magic.slice(0, size));
        body.set(this.bytes(Math.min(size, 4096) - Math.min(size, magic.length)), Math.min(size, magic.length));
        const type = this.pick(['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'text/plain', '']);
        const query = this.pick(['', '?face=1', '?face=-1', '?face=abc', '?name=%00', `?name=${'n'.repeat(200)}`, '?wait=1']);
        return { label: `POST /api/avatars${query}`, method: 'POST', path: `/api/avatars${query}`, headers: { ...auth, 'content-type': type }, body };
      }
      case 2: {
        const path = this.pick(['/api/sessions/', '/api/sessions/nope', '/api/avatars/jobs/', '/api/nope', '/api/sessions/%2e%2e', '/dist/../../package.json']);
        return { label: `GET ${path}`, method: 'GET', path: `${path}${this.next() < 0.3 ? encodeURIComponent(JSON.stringify(this.value()) ?? "") : ''}`, headers: auth };
      }
      case 3: {
        const body = JSON.stringify(this.next() < 0.5 ? { text: this.value() } : this.value());
        return { label: 'POST instructions', method: 'POST', path: '/api/sessions/nope/instructions', headers: { ...auth, 'content-type': 'application/json' }, body };
      }
      default:
        return { label: 'DELETE', method: 'DELETE', path: `/api/sessions/${encodeURIComponent((JSON.stringify(this.value()) ?? "").slice(0, 80))}`, headers: auth };
    }
  }

  /** One TTS ingest message: audio of odd sizes, near-valid events, garbage. */
  ingestMessage(): Buffer | string {
    switch (this.int(6)) {
      case 0:
        return Buffer.from(this.bytes(this.int(4800)));
      case 1:
        return this.int(500) === 0 ? Buffer.alloc(MIB + 1) : Buffer.alloc(2 * this.int(2400));
      case 2:
        return JSON.stringify({ type: this.pick(['config', 'text', 'instruction', 'interrupt', 'end_of_turn', 'dance', '']), ...(this.value() as object) });
      case 3:
        return JSON.stringify({ type: 'config', encoding: this.pick(['pcm16', 'opus', 'mp3', 7]), sampleRate: this.pick([16_000, 24_000, 48_000, 44_100, -1, '24000']) });
      case 4:
        return JSON.stringify({ type: this.pick(['text', 'instruction']), text: this.value() });
      default:
        return Buffer.from(this.bytes(this.int(300))).toString('latin1');
    }
  }

  /** One signaling message; `id` when the server must answer it (a parsable request with an id). */
  signalMessage(n: number): { text: string; id: number | null } {
    const method = this.pick(['join', 'createTransport', 'connectTransport', 'produce', 'consume', 'resumeConsumers', 'getStats', 'dance']);
    switch (this.int(4)) {
      case 0:
        return { text: Buffer.from(this.bytes(this.int(200))).toString('latin1'), id: null };
      case 1:
        return { text: JSON.stringify({ id: n, method, data: this.value() }), id: n };
      case 2: {
        const data = { direction: this.pick(['send', 'recv', 'up']), transportId: this.pick(['', 'x', 'a'.repeat(65)]), dtlsParameters: this.value(), rtpParameters: this.value(), rtpCapabilities: this.value(), kind: this.pick(['audio', 'video']) };
        return { text: JSON.stringify({ id: n, method, data }), id: n };
      }
      default:
        return { text: JSON.stringify({ id: this.pick([n, -1, 'x', null]), method: this.value() }), id: null };
    }
  }

  /** An Opus packet: a valid TOC with random frames, or random bytes. */
  opusPacket(): Uint8Array {
    const b = this.bytes(1 + this.int(400));
    if (this.next() < 0.5) b[0] = (this.int(32) << 3) | this.int(4);
    return b;
  }

  /** An RTP packet for the microphone path: well-formed with a random payload, or broken. */
  rtpPacket(i: number, write: (h: RtpHeaderFields, payload: Uint8Array) => Buffer): Buffer {
    if (this.next() < 0.3) return Buffer.from(this.bytes(this.int(40)));
    const header: RtpHeaderFields = { payloadType: 111, sequenceNumber: (1000 + i) & 0xffff, timestamp: (960 * i) >>> 0, ssrc: 1234, marker: false };
    return write(header, this.opusPacket());
  }
}
