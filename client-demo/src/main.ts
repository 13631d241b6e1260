// facecast demo page: publisher (default) or viewer (/view), plus window.facecast test hooks.
import {
  captureAudio,
  captureAudioLevels,
  captureFrames,
  type AudioCapture,
  type AudioLevelCapture,
  type CaptureFramesOptions,
  type FrameCapture,
} from './capture';
import { FacecastClient, type ClientConfig, type Mode, type State } from './session';
import type { OverlayStats } from './stats';

export interface FacecastApi {
  readonly mode: Mode;
  readonly state: State;
  readonly error: string | null;
  readonly stats: OverlayStats;
  readonly sessionId: string | null;
  readonly viewerUrl: string | null;
  start(): Promise<void>;
  stop(): void;
  captureFrames(opts: CaptureFramesOptions): Promise<FrameCapture>;
  /** Envelope of the received audio, or of the local microphone with source 'microphone' (latency bench). */
  captureAudio(durationMs: number, source?: 'received' | 'microphone'): Promise<AudioCapture>;
  captureAudioLevels(durationMs: number, periodMs?: number): Promise<AudioLevelCapture>;
  /** The receivers' inbound-rtp stats (audio, video): jitter buffer delays and targets, as the browser reports them. */
  receiverStats(): Promise<Record<'audio' | 'video', Record<string, unknown> | null>>;
  /** The RTP header extensions each receiver negotiated (URIs). */
  receiverHeaderExtensions(): Record<'audio' | 'video', string[]>;
}

declare global {
  interface Window {
    facecast: FacecastApi;
  }
}

function readConfig(): ClientConfig {
  const q = new URLSearchParams(location.search);
  const get = (k: string): string | undefined => q.get(k)?.trim() || undefined;
  const mode: Mode = /\/view\/?$/.test(location.pathname) ? 'viewer' : 'publisher';
  const cfg: ClientConfig = {
    mode,
    apiKey: get('key'),
    sessionId: get('session'),
    token: get('token'),
    viewerToken: get('viewerToken'),
    avatar: get('avatar'),
  };
  if (mode === 'viewer') {
    if (!cfg.sessionId || !cfg.token) cfg.configError = 'This viewer link is incomplete: it needs ?session=<id>&token=<viewer token>.';
  } else if (!(cfg.sessionId && cfg.token) && !cfg.apiKey) {
    cfg.configError =
      'Open this page as /?key=<api key> to create a session, or /?session=<id>&token=<publisher token> to join one.';
  }
  return cfg;
}

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

const fmt = (v: number | null, digits = 0): string => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function main(): void {
  const config = readConfig();
  const ui = {
    mode: $('mode'),
    state: $('state'),
    video: $<HTMLVideoElement>('video'),
    placeholder: $('placeholder'),
    play: $<HTMLButtonElement>('play'),
    stats: $('stats'),
    start: $<HTMLButtonElement>('start'),
    stop: $<HTMLButtonElement>('stop'),
    hint: $('hint'),
    error: $('error'),
    link: $('viewer-link'),
    linkInput: $<HTMLInputElement>('viewer-url'),
    copy: $<HTMLButtonElement>('copy'),
  };
  const statCells = Object.fromEntries(
    Array.from(ui.stats.querySelectorAll<HTMLElement>('[data-stat]')).map((el) => [el.dataset.stat!, el]),
  );

  const isViewer = config.mode === 'viewer';
  document.body.dataset.mode = config.mode;
  ui.mode.textContent = isViewer ? 'viewer' : 'publisher';
  ui.start.textContent = isViewer ? 'Watch' : 'Start';
  ui.hint.textContent = isViewer ? '' : 'Use headphones: your voice comes back through the avatar.';

  const render = (): void => {
    const { state, error } = client;
    const busy = state === 'connecting' || state === 'live';
    ui.state.textContent = state;
    ui.state.dataset.state = state;
    document.body.dataset.state = state;
    ui.start.disabled = busy || Boolean(config.configError);
    ui.stop.disabled = !busy;
    ui.error.textContent = error ?? '';
    ui.error.hidden = error === null;
    ui.stats.hidden = state !== 'live';
    ui.placeholder.hidden = state === 'live';
    ui.placeholder.textContent = placeholderText(state);
    ui.link.hidden = client.viewerUrl === null;
    if (client.viewerUrl !== null) ui.linkInput.value = client.viewerUrl;
  };

  const placeholderText = (state: State): string => {
    const verb = isViewer ? 'Watch' : 'Start';
    if (config.configError) return 'Fix the page address to continue.';
    if (state === 'connecting') return 'Connecting…';
    if (state === 'closed' || state === 'error') return `Not connected. Press ${verb} to connect again.`;
    return isViewer ? 'Press Watch to join the stream.' : 'Press Start, allow the microphone and speak.';
  };

  const renderStats = (s: OverlayStats): void => {
    const values: Record<string, string> = {
      fps: fmt(s.fps, 1),
      videoKbps: fmt(s.videoKbps),
      audioJitterBufferMs: fmt(s.audioJitterBufferMs),
      videoJitterBufferMs: fmt(s.videoJitterBufferMs),
      serverLatencyMs: fmt(s.serverLatencyMs),
      glassToGlassMs: fmt(s.glassToGlassMs),
      server: `${fmt(s.serverFps, 1)} fps · ${fmt(s.serverVideoKbps)} kbps`,
      size: s.frameWidth && s.frameHeight ? `${s.frameWidth}×${s.frameHeight}` : '–',
    };
    for (const [k, v] of Object.entries(values)) if (statCells[k]) statCells[k].textContent = v;
  };

  const client = new FacecastClient(config, ui.video, {
    onChange: render,
    onStats: renderStats,
    onNeedsGesture: (needed) => {
      ui.play.hidden = !needed;
    },
  });

  const startFromUi = (): void => {
    client.start().catch(() => {
      /* shown on the page */
    });
  };
  ui.start.addEventListener('click', startFromUi);
  ui.stop.addEventListener('click', () => client.stop());
  ui.play.addEventListener('click', () => void client.play());
  ui.copy.addEventListener('click', () => void copyLink(ui.linkInput, ui.copy));
  window.addEventListener('pagehide', () => client.stop());

  window.facecast = {
    get mode() {
      return config.mode;
    },
    get state() {
      return client.state;
    },
    get error() {
      return client.error;
    },
    get stats() {
      return client.stats;
    },
    get sessionId() {
      return client.sessionId;
    },
    get viewerUrl() {
      return client.viewerUrl;
    },
    start: () => client.start(),
    stop: () => client.stop(),
    captureFrames: (opts) => captureFrames(ui.video, opts),
    captureAudio: (durationMs, source = 'received') => {
      const track = source === 'microphone' ? client.micTrack : client.audioTrack;
      if (client.state !== 'live' || !track) return Promise.reject(new Error('captureAudio: not live (call start() first)'));
      return captureAudio(track, durationMs);
    },
    captureAudioLevels: (durationMs, periodMs) => {
      const receiver = client.audioReceiver;
      if (client.state !== 'live' || !receiver) return Promise.reject(new Error('captureAudioLevels: not live (call start() first)'));
      return captureAudioLevels(receiver, durationMs, periodMs);
    },
    receiverStats: async () => {
      const inbound = async (r: RTCRtpReceiver | null): Promise<Record<string, unknown> | null> => {
        if (!r) return null;
        for (const s of (await r.getStats()).values()) if (s.type === 'inbound-rtp') return { ...s };
        return null;
      };
      return { audio: await inbound(client.audioReceiver), video: await inbound(client.videoReceiver) };
    },
    receiverHeaderExtensions: () => {
      const uris = (r: RTCRtpReceiver | null): string[] => r?.getParameters().headerExtensions.map((e) => e.uri) ?? [];
      return { audio: uris(client.audioReceiver), video: uris(client.videoReceiver) };
    },
  };

  render();
  renderStats(client.stats);
  if (isViewer && !config.configError) {
    startFromUi(); // viewers need no permission: join right away
  }
}

async function copyLink(input: HTMLInputElement, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    document.execCommand('copy'); // fallback for non-secure contexts
  }
  const label = button.textContent;
  button.textContent = 'Copied';
  setTimeout(() => (button.textContent = label), 1500);
}

main();
