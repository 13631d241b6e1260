// Test hooks: sample what the page actually received (video frames, audio envelope).

export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface CaptureFramesOptions {
  /** Sampling rate for the setInterval fallback; with requestVideoFrameCallback every
   *  presented frame is taken, except frames closer than half a period to the previous one. */
  fps: number;
  durationMs: number;
  /** In video pixel coordinates (videoWidth x videoHeight); the whole frame when absent. */
  region?: Region;
}

export interface FrameCapture {
  /** performance.now() when each frame was drawn. */
  t: number[];
  /**
   * Per frame, where requestVideoFrameCallback tells (else empty): its RTP timestamp (90 kHz) and the
   * performance.now() time the compositor expects to show it. With the sender's timestamp offset these give the
   * media time on screen at each moment, free of any image measure.
   */
  rtp: number[];
  shownAt: number[];
  /** One array of w*h luma values (0..255, row-major) per frame. */
  gray: number[][];
  w: number;
  h: number;
}

export interface AudioCapture {
  /** performance.now() time at which the first bin's first sample is played out. */
  t0: number;
  /** Sample rate of the AudioContext that analysed the track. */
  sampleRate: number;
  /** RMS (linear, 0..1) of consecutive 10 ms bins. */
  envelope: number[];
  /**
   * performance.now() time of each bin, mapped from the audio clock when the bin is seen.
   * Use these rather than t0 + i*10: an audio device's clock drifts from performance.now().
   */
  times: number[];
}

const MAX_SIDE = 64;
const FIRST_FRAME_TIMEOUT_MS = 5_000;

function waitForFirstFrame(video: HTMLVideoElement): Promise<void> {
  if (video.videoWidth > 0 && video.videoHeight > 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      video.removeEventListener('loadedmetadata', onMeta);
      video.removeEventListener('resize', onMeta);
      reject(new Error(`no video frame received within ${FIRST_FRAME_TIMEOUT_MS} ms`));
    }, FIRST_FRAME_TIMEOUT_MS);
    const onMeta = (): void => {
      if (video.videoWidth === 0) return;
      clearTimeout(timer);
      video.removeEventListener('loadedmetadata', onMeta);
      video.removeEventListener('resize', onMeta);
      resolve();
    };
    video.addEventListener('loadedmetadata', onMeta);
    video.addEventListener('resize', onMeta);
  });
}

export async function captureFrames(video: HTMLVideoElement, opts: CaptureFramesOptions): Promise<FrameCapture> {
  const fps = Number(opts?.fps);
  const durationMs = Number(opts?.durationMs);
  if (!(fps > 0) || !(durationMs > 0)) throw new Error('captureFrames: fps and durationMs must be positive numbers');
  if (!video.srcObject) throw new Error('captureFrames: not receiving video (call start() first)');
  await waitForFirstFrame(video);

  const vw = video.videoWidth;
  const vh = video.videoHeight;
  const r = opts.region ?? { x: 0, y: 0, w: vw, h: vh };
  const x = Math.min(Math.max(0, Math.round(r.x)), vw - 1);
  const y = Math.min(Math.max(0, Math.round(r.y)), vh - 1);
  const w = Math.min(Math.max(1, Math.round(r.w)), vw - x);
  const h = Math.min(Math.max(1, Math.round(r.h)), vh - y);
  const scale = Math.min(1, MAX_SIDE / w, MAX_SIDE / h);
  const ow = Math.max(1, Math.round(w * scale));
  const oh = Math.max(1, Math.round(h * scale));

  const canvas = document.createElement('canvas');
  canvas.width = ow;
  canvas.height = oh;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('captureFrames: 2D canvas unavailable');
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'medium';

  const out: FrameCapture = { t: [], rtp: [], shownAt: [], gray: [], w: ow, h: oh };
  const grab = (meta?: VideoFrameCallbackMetadata): void => {
    const t = performance.now();
    if (meta?.rtpTimestamp !== undefined) {
      out.rtp.push(meta.rtpTimestamp);
      out.shownAt.push(meta.expectedDisplayTime);
    }
    ctx.drawImage(video, x, y, w, h, 0, 0, ow, oh);
    const px = ctx.getImageData(0, 0, ow, oh).data;
    const g = new Array<number>(ow * oh);
    for (let i = 0, p = 0; i < g.length; i++, p += 4) {
      g[i] = Math.round(0.299 * px[p] + 0.587 * px[p + 1] + 0.114 * px[p + 2]);
    }
    out.t.push(t);
    out.gray.push(g);
  };

  const periodMs = 1000 / fps;
  const endAt = performance.now() + durationMs;

  return new Promise<FrameCapture>((resolve) => {
    let done = false;
    let vfcHandle: number | undefined;
    let interval: ReturnType<typeof setInterval> | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (vfcHandle !== undefined) video.cancelVideoFrameCallback(vfcHandle);
      if (interval !== undefined) clearInterval(interval);
      resolve(out);
    };
    setTimeout(finish, durationMs);

    if (typeof video.requestVideoFrameCallback === 'function') {
      let last = -Infinity;
      const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
        if (done) return;
        const now = performance.now();
        if (now >= endAt) return finish();
        if (now - last >= periodMs / 2) {
          grab(meta);
          last = now;
        }
        vfcHandle = video.requestVideoFrameCallback(onFrame);
      };
      vfcHandle = video.requestVideoFrameCallback(onFrame);
    } else {
      grab();
      interval = setInterval(() => {
        if (performance.now() >= endAt) finish();
        else grab();
      }, periodMs);
    }
  });
}

// ---- audio -------------------------------------------------------------------------

const WORKLET_NAME = 'facecast-rms';
// Accumulates the mean square over all channels in bins of `binSize` frames and posts
// [binStartFrame, rms, binStartFrame, rms, ...] batches. Outputs silence.
const WORKLET_SOURCE = `
class FacecastRms extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.binSize = options.processorOptions.binSize;
    this.acc = 0; this.n = 0; this.start = 0; this.out = []; this.stopped = false;
    this.port.onmessage = () => { this.stopped = true; };
  }
  process(inputs) {
    if (this.stopped) return false;
    const chans = inputs[0] || [];
    const frames = chans.length ? chans[0].length : 128;
    for (let i = 0; i < frames; i++) {
      if (this.n === 0) this.start = currentFrame + i;
      let s = 0;
      for (let c = 0; c < chans.length; c++) { const v = chans[c][i]; s += v * v; }
      this.acc += chans.length ? s / chans.length : 0;
      if (++this.n === this.binSize) {
        this.out.push(this.start, Math.sqrt(this.acc / this.n));
        this.acc = 0; this.n = 0;
      }
    }
    if (this.out.length >= 10) { this.port.postMessage(this.out); this.out = []; }
    return true;
  }
}
registerProcessor('${WORKLET_NAME}', FacecastRms);
`;

let audioCtx: AudioContext | null = null;
let workletLoaded: Promise<boolean> | null = null;

async function getAudioContext(): Promise<AudioContext> {
  audioCtx ??= new AudioContext({ latencyHint: 'interactive' });
  if (audioCtx.state !== 'running') {
    const resumed = audioCtx.resume().then(() => true);
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), 2_000));
    if (!(await Promise.race([resumed, timeout]))) {
      throw new Error('captureAudio: AudioContext is suspended (autoplay policy: needs a user gesture)');
    }
  }
  return audioCtx;
}

function loadWorklet(ctx: AudioContext): Promise<boolean> {
  // audioWorklet only exists in secure contexts; fall back to ScriptProcessor elsewhere.
  if (!ctx.audioWorklet) return Promise.resolve(false);
  workletLoaded ??= (async () => {
    const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: 'application/javascript' }));
    try {
      await ctx.audioWorklet.addModule(url);
      return true;
    } catch (err) {
      console.warn('[facecast] AudioWorklet unavailable, using ScriptProcessor', err);
      return false;
    } finally {
      URL.revokeObjectURL(url);
    }
  })();
  return workletLoaded;
}

/** Maps an AudioContext time (s) to the performance.now() time it is played out. */
function contextToPerformance(ctx: AudioContext, contextTime: number): number {
  const ts = ctx.getOutputTimestamp?.();
  if (ts && ts.performanceTime && ts.contextTime !== undefined && ts.contextTime > 0) {
    return ts.performanceTime + (contextTime - ts.contextTime) * 1000;
  }
  return performance.now() - (ctx.currentTime - contextTime) * 1000;
}

export async function captureAudio(track: MediaStreamTrack, durationMs: number): Promise<AudioCapture> {
  durationMs = Number(durationMs);
  if (!(durationMs > 0)) throw new Error('captureAudio: durationMs must be a positive number');
  if (track.readyState !== 'live') throw new Error('captureAudio: the received audio track has ended');
  const ctx = await getAudioContext();
  const sampleRate = ctx.sampleRate;
  const binSize = Math.round(sampleRate / 100);
  const wanted = Math.max(1, Math.round(durationMs / 10));
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const envelope: number[] = [];
  const times: number[] = [];
  let t0: number | null = null;

  return new Promise<AudioCapture>((resolve, reject) => {
    let cleanup = (): void => {};
    const safety = setTimeout(() => {
      cleanup();
      reject(new Error('captureAudio: audio processing stalled'));
    }, durationMs + 5_000);
    const addBin = (startFrame: number, rms: number): void => {
      if (envelope.length >= wanted) return;
      const t = contextToPerformance(ctx, startFrame / sampleRate);
      if (t0 === null) t0 = t;
      envelope.push(rms);
      times.push(t);
      if (envelope.length === wanted) {
        clearTimeout(safety);
        cleanup();
        resolve({ t0, sampleRate, envelope, times });
      }
    };

    void loadWorklet(ctx).then((useWorklet) => {
      if (useWorklet) {
        const node = new AudioWorkletNode(ctx, WORKLET_NAME, {
          numberOfInputs: 1,
          numberOfOutputs: 1,
          outputChannelCount: [1],
          processorOptions: { binSize },
        });
        node.port.onmessage = (ev: MessageEvent<number[]>) => {
          const d = ev.data;
          for (let i = 0; i + 1 < d.length; i += 2) addBin(d[i], d[i + 1]);
        };
        source.connect(node);
        node.connect(ctx.destination); // silent; keeps the node pulled by the graph
        cleanup = () => {
          node.port.postMessage('stop');
          source.disconnect();
          node.disconnect();
        };
      } else {
        const bufferSize = 1024;
        const proc = ctx.createScriptProcessor(bufferSize, 2, 1);
        let acc = 0;
        let n = 0;
        let binStart = 0;
        let frame: number | null = null;
        proc.onaudioprocess = (ev) => {
          const inp = ev.inputBuffer;
          ev.outputBuffer.getChannelData(0).fill(0);
          // The input block ends roughly where the output block starts.
          frame ??= Math.max(0, Math.round(ev.playbackTime * sampleRate) - bufferSize);
          const chans = Array.from({ length: inp.numberOfChannels }, (_, c) => inp.getChannelData(c));
          for (let i = 0; i < inp.length; i++, frame++) {
            if (n === 0) binStart = frame;
            let s = 0;
            for (const ch of chans) s += ch[i] * ch[i];
            acc += chans.length ? s / chans.length : 0;
            if (++n === binSize) {
              addBin(binStart, Math.sqrt(acc / n));
              acc = 0;
              n = 0;
            }
          }
        };
        source.connect(proc);
        proc.connect(ctx.destination);
        cleanup = () => {
          proc.onaudioprocess = null;
          source.disconnect();
          proc.disconnect();
        };
      }
    }).catch((err: unknown) => {
      clearTimeout(safety);
      cleanup();
      source.disconnect();
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
}

// ---- audio level at playout ------------------------------------------------------------

export interface AudioLevelCapture {
  /** performance.now() of each poll. */
  t: number[];
  /** The level of the audio the receiver last played out (0..1, RFC 6464 from the server), or null. */
  level: (number | null)[];
  /** The RTP timestamp (48 kHz) of the packet last played out, and when it was (performance.now() time), or null. */
  rtp: (number | null)[];
  playedAt: (number | null)[];
}

function toPerformanceTime(t: number): number {
  return t > 1e12 ? t - performance.timeOrigin : t;
}

/**
 * Polls the receiver's synchronization source every `periodMs`: its audioLevel is that of the last packet played
 * out to the track (the server writes the level of every chunk), without the delay a WebAudio tap adds.
 */
export function captureAudioLevels(receiver: RTCRtpReceiver, durationMs: number, periodMs = 5): Promise<AudioLevelCapture> {
  if (!(durationMs > 0) || !(periodMs > 0)) throw new Error('captureAudioLevels: durationMs and periodMs must be positive numbers');
  const out: AudioLevelCapture = { t: [], level: [], rtp: [], playedAt: [] };
  return new Promise((resolve) => {
    const end = performance.now() + durationMs;
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= end) {
        clearInterval(timer);
        resolve(out);
        return;
      }
      const src = receiver.getSynchronizationSources()[0];
      out.t.push(now);
      out.level.push(src?.audioLevel ?? null);
      out.rtp.push(src?.rtpTimestamp ?? null);
      // The source's timestamp is on the performance clock's epoch (ms since 1970 in Chromium, as the spec's
      // earlier drafts had it); brought onto performance.now() here.
      out.playedAt.push(src ? toPerformanceTime(src.timestamp) : null);
    }, periodMs);
  });
}
