// One publisher or viewer connection: signaling, mediasoup-client transports, playback, stats.
import { Device, types as ms } from 'mediasoup-client';
import type {
  ConsumeResponse,
  JoinResponse,
  ProduceResponse,
  ServerStats,
  SignalNotification,
  TransportResponse,
} from '../../signaling/protocol';
import { ApiError, createSession } from './api';
import { SignalClient, SignalError } from './signal';
import { emptyStats, StatsTracker, type OverlayStats } from './stats';

export type Mode = 'publisher' | 'viewer';
export type State = 'idle' | 'connecting' | 'live' | 'closed' | 'error';

export interface ClientConfig {
  mode: Mode;
  /** Publisher: API key used to create a session when none is given. */
  apiKey?: string;
  sessionId?: string;
  /** Publisher or viewer token for sessionId. */
  token?: string;
  /** Publisher: viewer token, to show the viewer link for an existing session. */
  viewerToken?: string;
  /** Avatar for a session created here (server default when absent). */
  avatar?: string;
  /** Set when the URL cannot work at all; start() fails with it. */
  configError?: string;
}

export interface ClientEvents {
  onChange(): void;
  onStats(stats: OverlayStats): void;
  /** play() was rejected (autoplay policy): ask for a click. */
  onNeedsGesture(needed: boolean): void;
}

const STATS_INTERVAL_MS = 500;

/** Thrown inside a start attempt that stop() (or a newer start) superseded. */
class Superseded extends Error {}

export class FacecastClient {
  state: State = 'idle';
  error: string | null = null;
  stats: OverlayStats = emptyStats();
  sessionId: string | null;
  viewerUrl: string | null = null;

  private gen = 0;
  private startPromise: Promise<void> | null = null;
  private created: { sessionId: string; publisherToken: string; viewerToken: string } | null = null;
  private signal: SignalClient | null = null;
  private sendTransport: ms.Transport | null = null;
  private recvTransport: ms.Transport | null = null;
  private producer: ms.Producer | null = null;
  private consumers: ms.Consumer[] = [];
  private mic: MediaStream | null = null;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private statsBusy = false;
  private tracker = new StatsTracker();

  constructor(
    readonly config: ClientConfig,
    private readonly video: HTMLVideoElement,
    private readonly events: ClientEvents,
  ) {
    this.sessionId = config.sessionId ?? null;
    if (config.configError) {
      this.state = 'error';
      this.error = config.configError;
    }
    if (config.mode === 'publisher' && config.sessionId && config.viewerToken) {
      this.viewerUrl = viewerLink(config.sessionId, config.viewerToken);
    }
  }

  /** The local microphone track (publisher only), when live. */
  get micTrack(): MediaStreamTrack | null {
    return this.mic?.getAudioTracks()[0] ?? null;
  }

  /** The received audio track, when live. */
  get audioTrack(): MediaStreamTrack | null {
    return this.consumers.find((c) => c.kind === 'audio' && !c.closed)?.track ?? null;
  }

  /** The received video's RTCRtpReceiver, when live. */
  get videoReceiver(): RTCRtpReceiver | null {
    return this.consumers.find((c) => c.kind === 'video' && !c.closed)?.rtpReceiver ?? null;
  }

  /** The received audio's RTCRtpReceiver, when live (its sources carry the server's audio level, RFC 6464). */
  get audioReceiver(): RTCRtpReceiver | null {
    return this.consumers.find((c) => c.kind === 'audio' && !c.closed)?.rtpReceiver ?? null;
  }

  /** Connects; resolves when live, rejects with the page's error message. Idempotent while connecting/live. */
  start(): Promise<void> {
    if ((this.state === 'connecting' || this.state === 'live') && this.startPromise) return this.startPromise;
    this.teardown();
    const gen = ++this.gen;
    this.setState('connecting', null);
    this.startPromise = this.connect(gen).catch((err: unknown) => {
      if (err instanceof Superseded || gen !== this.gen) {
        // Superseded by a failure or sessionClosed (error set) rather than by stop(): still a failed start.
        if (this.error !== null && this.state !== 'connecting' && this.state !== 'live') throw new Error(this.error);
        return;
      }
      const msg = describeError(err);
      console.error('[facecast]', msg, err);
      this.fail(msg);
      throw new Error(msg);
    });
    return this.startPromise;
  }

  /** Closes everything (also aborts a start in progress). */
  stop(): void {
    if (this.state === 'idle') return;
    this.gen++;
    this.teardown();
    this.setState('closed', null);
  }

  /** Retry play() after a user gesture. */
  async play(): Promise<void> {
    await this.tryPlay();
  }

  // ---- connection ------------------------------------------------------------------

  private async connect(gen: number): Promise<void> {
    const check = (): void => {
      if (gen !== this.gen) throw new Superseded();
    };
    const { mode, configError } = this.config;
    if (configError) throw new Error(configError);

    // 1. Microphone (publisher) before anything touches the server, so a denied mic leaves no session behind.
    if (mode === 'publisher') {
      const mic = await getMicrophone();
      if (gen !== this.gen) {
        mic.getTracks().forEach((t) => t.stop());
        throw new Superseded();
      }
      this.mic = mic;
    }

    // 2. Session: given in the URL, or created with the API key (reused on the next Start).
    let sessionId = this.config.sessionId;
    let token = this.config.token;
    if (mode === 'publisher' && !sessionId) {
      if (!this.created) {
        const s = await createSession(this.config.apiKey ?? '', this.config.avatar);
        check();
        this.created = { sessionId: s.sessionId, publisherToken: s.publisherToken, viewerToken: s.viewerToken };
      }
      sessionId = this.created.sessionId;
      token = this.created.publisherToken;
      this.viewerUrl = viewerLink(sessionId, this.created.viewerToken);
    }
    if (!sessionId || !token) throw new Error('missing session id or token');
    this.sessionId = sessionId;
    this.events.onChange();

    // 3. Signaling.
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal?session=${encodeURIComponent(
      sessionId,
    )}&token=${encodeURIComponent(token)}`;
    let signal: SignalClient;
    try {
      signal = await SignalClient.connect(url, {
        onNotification: (n) => this.onNotification(gen, n),
        onClose: ({ code, reason }) => {
          if (gen !== this.gen) return;
          this.fail(`Lost the signaling connection to the server (close code ${code}${reason ? `: ${reason}` : ''}).`);
        },
      });
    } catch (err) {
      check();
      throw new Error(await diagnoseSignalFailure(sessionId, token, err));
    }
    if (gen !== this.gen) {
      signal.close();
      throw new Superseded();
    }
    this.signal = signal;

    const join = await signal.request<JoinResponse>('join');
    check();
    if (mode === 'publisher' && join.role !== 'publisher') {
      throw new Error('This token is a viewer token: open it as /view?session=…&token=… instead.');
    }

    const device = await Device.factory();
    await device.load({ routerRtpCapabilities: join.routerRtpCapabilities as unknown as ms.RtpCapabilities });
    check();

    // 4. Publisher: send transport + the microphone as Opus.
    if (mode === 'publisher' && this.mic) {
      if (!device.canProduce('audio')) throw new Error('This browser cannot send audio with the server’s codecs.');
      const params = await signal.request<TransportResponse>('createTransport', { direction: 'send' });
      check();
      const send = device.createSendTransport(transportOptions(params));
      this.sendTransport = send;
      send.on('connect', ({ dtlsParameters }, callback, errback) => {
        signal
          .request('connectTransport', { transportId: send.id, dtlsParameters })
          .then(() => callback(), errback);
      });
      send.on('produce', ({ kind, rtpParameters }, callback, errback) => {
        signal
          .request<ProduceResponse>('produce', { transportId: send.id, kind, rtpParameters })
          .then(({ producerId }) => callback({ id: producerId }), errback);
      });
      this.watchTransport(gen, send);
      const opus = device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'audio/opus');
      if (!opus) throw new Error('The server does not offer Opus audio.');
      const track = this.mic.getAudioTracks()[0];
      this.producer = await send.produce({
        track,
        codec: opus,
        codecOptions: { opusStereo: false, opusDtx: false, opusFec: true },
        stopTracks: false,
      });
      check();
    }

    // 5. Receive transport: the avatar's video + audio.
    const params = await signal.request<TransportResponse>('createTransport', { direction: 'recv' });
    check();
    const recv = device.createRecvTransport(transportOptions(params));
    this.recvTransport = recv;
    recv.on('connect', ({ dtlsParameters }, callback, errback) => {
      signal.request('connectTransport', { transportId: recv.id, dtlsParameters }).then(() => callback(), errback);
    });
    this.watchTransport(gen, recv);

    const { consumers } = await signal.request<ConsumeResponse>('consume', {
      transportId: recv.id,
      rtpCapabilities: device.rtpCapabilities as unknown as Record<string, unknown>,
    });
    check();
    if (!consumers?.length) throw new Error('The server offered no media to consume.');
    // One streamId for both consumers: same msid, so the browser lip-syncs audio and video.
    const streamId = `facecast-${sessionId}`;
    for (const info of consumers) {
      const consumer = await recv.consume({
        id: info.id,
        producerId: info.producerId,
        kind: info.kind,
        rtpParameters: info.rtpParameters as unknown as ms.RtpParameters,
        streamId,
      });
      this.consumers.push(consumer);
      check();
    }
    this.video.srcObject = new MediaStream(this.consumers.map((c) => c.track));

    await signal.request('resumeConsumers');
    check();

    this.setState('live', null);
    this.startStats(gen);
    void this.tryPlay();
  }

  private watchTransport(gen: number, transport: ms.Transport): void {
    transport.on('connectionstatechange', (state) => {
      if (gen !== this.gen) return;
      if (state === 'failed') {
        this.fail(
          `Media connection failed (${transport.direction} transport): ICE/DTLS could not reach the server's media ports.`,
        );
      }
    });
  }

  private onNotification(gen: number, n: SignalNotification): void {
    if (gen !== this.gen) return;
    if (n.notification === 'stats') {
      this.tracker.setServerStats(n.data);
      this.stats = this.tracker.current;
      this.events.onStats(this.stats);
    } else if (n.notification === 'sessionClosed') {
      if (this.created && this.created.sessionId === this.sessionId) {
        this.created = null; // the next Start creates a new session
        this.viewerUrl = null;
      }
      this.gen++;
      this.teardown();
      this.setState('closed', `Session ended by the server: ${n.data?.reason || 'no reason given'}.`);
    } else if (n.notification === 'reconnect') {
      // The session goes on; only its media connection was lost (the server's media worker restarted): join again.
      console.warn('[facecast] reconnecting:', n.data?.reason);
      this.gen++;
      this.teardown();
      this.setState('connecting', null);
      const gen = this.gen;
      setTimeout(() => {
        if (gen !== this.gen) return; // stopped or restarted meanwhile
        this.startPromise = null;
        void this.start().catch(() => undefined);
      }, 300);
    }
  }

  private async tryPlay(): Promise<void> {
    this.video.muted = false;
    try {
      await this.video.play();
      this.events.onNeedsGesture(false);
    } catch (err) {
      if ((err as DOMException)?.name === 'NotAllowedError') {
        this.events.onNeedsGesture(true);
      } else if ((err as DOMException)?.name !== 'AbortError') {
        console.warn('[facecast] video.play() failed', err);
      }
    }
  }

  // ---- stats -----------------------------------------------------------------------

  private startStats(gen: number): void {
    this.tracker = new StatsTracker();
    this.statsTimer = setInterval(() => void this.pollStats(gen), STATS_INTERVAL_MS);
  }

  private async pollStats(gen: number): Promise<void> {
    if (this.statsBusy || gen !== this.gen) return;
    this.statsBusy = true;
    try {
      const [report, server] = await Promise.all([
        this.recvTransport?.getStats().catch(() => null) ?? null,
        this.signal?.open ? this.signal.request<ServerStats>('getStats').catch(() => null) : null,
      ]);
      if (gen !== this.gen) return;
      if (server) this.tracker.setServerStats(server);
      this.stats = this.tracker.update(report);
      this.events.onStats(this.stats);
    } finally {
      this.statsBusy = false;
    }
  }

  // ---- teardown --------------------------------------------------------------------

  private fail(message: string): void {
    this.gen++;
    this.teardown();
    this.setState('error', message);
  }

  private teardown(): void {
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.statsBusy = false;
    for (const c of this.consumers) c.close();
    this.consumers = [];
    this.producer?.close();
    this.producer = null;
    this.sendTransport?.close();
    this.sendTransport = null;
    this.recvTransport?.close();
    this.recvTransport = null;
    this.signal?.close();
    this.signal = null;
    this.mic?.getTracks().forEach((t) => t.stop());
    this.mic = null;
    this.video.pause();
    this.video.srcObject = null;
    this.events.onNeedsGesture(false);
  }

  private setState(state: State, error: string | null): void {
    this.state = state;
    this.error = error;
    if (state !== 'live') this.stats = emptyStats();
    this.events.onChange();
    this.events.onStats(this.stats);
  }
}

// ---- helpers -----------------------------------------------------------------------

function viewerLink(sessionId: string, viewerToken: string): string {
  return `${location.origin}/view?session=${encodeURIComponent(sessionId)}&token=${encodeURIComponent(viewerToken)}`;
}

function transportOptions(p: TransportResponse): ms.TransportOptions {
  return {
    id: p.id,
    iceParameters: p.iceParameters as unknown as ms.IceParameters,
    iceCandidates: p.iceCandidates as unknown as ms.IceCandidate[],
    dtlsParameters: p.dtlsParameters as unknown as ms.DtlsParameters,
  };
}

async function getMicrophone(): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error('Microphone unavailable: this page must be served over HTTPS (or from localhost).');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      video: false,
    });
  } catch (err) {
    const name = (err as DOMException)?.name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      throw new Error('Microphone access was denied. Allow the microphone for this site, then press Start again.');
    }
    if (name === 'NotFoundError' || name === 'OverconstrainedError') throw new Error('No microphone was found.');
    if (name === 'NotReadableError') throw new Error('The microphone could not be opened (is another application using it?).');
    throw new Error(`Could not open the microphone: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** The browser hides why a WebSocket failed: ask the HTTP API to tell unreachable from rejected. */
async function diagnoseSignalFailure(sessionId: string, token: string, err: unknown): Promise<string> {
  const detail = err instanceof Error ? err.message : String(err);
  let res: Response;
  try {
    res = await fetch(`/api/sessions/${encodeURIComponent(sessionId)}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
  } catch {
    return `Server unreachable: could not connect to ${location.host} (${detail}).`;
  }
  if (res.status === 404) return `Session ${sessionId} was not found (it may have ended).`;
  if (res.status === 401 || res.status === 403) return 'The session token was rejected (HTTP ' + res.status + ').';
  if (!res.ok) return `Server unreachable: signaling failed and the API answered HTTP ${res.status}.`;
  return `The server refused the signaling connection (${detail}).`;
}

function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return `Server unreachable: could not reach ${location.host} to create a session.`;
    if (err.status === 401) return `Could not create a session: the API key was rejected (401 ${err.code}: ${err.message}).`;
    return `Could not create a session: HTTP ${err.status} ${err.code}: ${err.message}`;
  }
  if (err instanceof SignalError) {
    const where = err.method ? ` during '${err.method}'` : '';
    if (err.code === 'network') return `Lost the signaling connection to the server${where}.`;
    if (err.code === 'timeout') return `The server did not answer${where} (timeout).`;
    return `Signaling error${where}: ${err.code}: ${err.message}`;
  }
  if (err instanceof Error) {
    if (err.name === 'UnsupportedError') return `This browser is not supported: ${err.message}`;
    return err.message;
  }
  return String(err);
}
