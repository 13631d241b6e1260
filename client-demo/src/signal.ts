// Signaling client: JSON over WebSocket (see signaling/protocol.ts).
// Requests {id, method, data} are answered once by {id, ok, data|error};
// notifications {notification, data} carry no id.
import type { SignalErrorCode, SignalMethod, SignalNotification } from '../../signaling/protocol';

const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 8_000;

/** A request answered with ok: false, or a transport-level failure (code 'network' / 'timeout'). */
export class SignalError extends Error {
  constructor(
    readonly code: SignalErrorCode | 'network' | 'timeout',
    message: string,
    readonly method?: SignalMethod,
  ) {
    super(message);
    this.name = 'SignalError';
  }
}

interface Pending {
  method: SignalMethod;
  resolve: (data: unknown) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export interface SignalHandlers {
  onNotification(n: SignalNotification): void;
  /** The socket closed without close() being called. */
  onClose(info: { code: number; reason: string }): void;
}

export class SignalClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedByUs = false;

  private constructor(
    private readonly ws: WebSocket,
    private readonly handlers: SignalHandlers,
  ) {
    ws.addEventListener('message', (ev) => this.onMessage(ev));
    ws.addEventListener('close', (ev) => {
      this.failAll(new SignalError('network', 'signaling connection closed'));
      if (!this.closedByUs) this.handlers.onClose({ code: ev.code, reason: ev.reason });
    });
  }

  /** Opens the socket; rejects with a 'network' SignalError if it cannot be opened. */
  static connect(url: string, handlers: SignalHandlers): Promise<SignalClient> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url);
      } catch (err) {
        reject(new SignalError('network', `bad signaling URL: ${(err as Error).message}`));
        return;
      }
      const timer = setTimeout(() => {
        cleanup();
        ws.close();
        reject(new SignalError('timeout', 'timed out connecting to the signaling server'));
      }, CONNECT_TIMEOUT_MS);
      const onOpen = (): void => {
        cleanup();
        resolve(new SignalClient(ws, handlers));
      };
      // The browser hides the reason (refused, 401/404 on upgrade, ...): both end up here.
      const onFail = (ev: Event): void => {
        cleanup();
        const code = ev instanceof CloseEvent ? ` (close code ${ev.code})` : '';
        reject(new SignalError('network', `could not open the signaling WebSocket${code}`));
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        ws.removeEventListener('open', onOpen);
        ws.removeEventListener('error', onFail);
        ws.removeEventListener('close', onFail);
      };
      ws.addEventListener('open', onOpen);
      ws.addEventListener('error', onFail);
      ws.addEventListener('close', onFail);
    });
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  request<T>(method: SignalMethod, data?: Record<string, unknown>): Promise<T> {
    if (!this.open) return Promise.reject(new SignalError('network', 'signaling connection is not open', method));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalError('timeout', `no answer to '${method}' within ${REQUEST_TIMEOUT_MS} ms`, method));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { method, resolve: resolve as (d: unknown) => void, reject, timer });
      this.ws.send(JSON.stringify(data === undefined ? { id, method } : { id, method, data }));
    });
  }

  close(): void {
    this.closedByUs = true;
    this.failAll(new SignalError('network', 'signaling connection closed'));
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.close(1000, 'bye');
    }
  }

  private onMessage(ev: MessageEvent): void {
    if (typeof ev.data !== 'string') return;
    let msg: unknown;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      console.warn('[facecast] ignoring non-JSON signaling message');
      return;
    }
    if (!msg || typeof msg !== 'object') return;
    const m = msg as Record<string, unknown>;
    if (typeof m.notification === 'string') {
      this.handlers.onNotification(m as unknown as SignalNotification);
      return;
    }
    if (typeof m.id !== 'number') return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok === true) {
      p.resolve(m.data);
    } else {
      const e = (m.error ?? {}) as { code?: SignalErrorCode; message?: string };
      p.reject(new SignalError(e.code ?? 'internal', e.message ?? 'request failed', p.method));
    }
  }

  private failAll(err: SignalError): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SignalError(err.code, err.message, p.method));
      this.pending.delete(id);
    }
  }
}
