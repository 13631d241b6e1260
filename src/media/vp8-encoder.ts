// One ffmpeg/libvpx process per session turns raw I420 frames into VP8. Input goes to stdin
// as rawvideo, output comes back as IVF on stdout; ffmpeg drops no frames and holds none
// (lag-in-frames 0, fps_mode passthrough), so output frame k is input frame k and we give
// it that frame's ptsUs. The added latency is measured in test/media/vp8-encoder.test.ts.
import { metrics } from '../metrics/index.ts';
import { NICE, lowerProcess } from '../util/proc.ts';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { z } from 'zod';
import { moduleLogger } from '../log.ts';
import { IvfParseError, MediaClosedError, MediaInputError, MediaOptionsError, Vp8EncoderError } from './errors.ts';
import type { IvfFrame } from './ivf.ts';
import { IvfParser } from './ivf.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import type { VideoFrame } from './types.ts';
import { VIDEO_FPS } from './types.ts';
import { isVp8Keyframe } from './vp8-packetizer.ts';
import type {
  EncodedVideoFrame,
  NormalizedVp8EncoderOptions,
  Vp8EncoderEvents,
  Vp8EncoderOptions,
  Vp8EncoderStats,
} from './vp8-encoder-types.ts';

const log = moduleLogger('media/vp8-encoder');

/**
 * Latency this stage declares to the session budget (house rule 10): encode() -> frame out,
 * measured for 512x512 @ 800 kbit/s on a loaded dev box as p50 ~3 ms, p95 8-10 ms, max ~17 ms
 * (see vp8-encoder.test.ts). The first frame after spawn also pays ffmpeg's process start-up
 * (60-130 ms), so sessions start the encoder before going live.
 */
export const VP8_ENCODER_DECLARED_LATENCY_US = 15_000;
const STDERR_TAIL_BYTES = 4096;

const even = (what: string) =>
  z.number().int().positive().max(4096).refine((n) => n % 2 === 0, `${what} must be even for I420`);

const optionsSchema = z
  .object({
    width: even('width').default(512),
    height: even('height').default(512),
    fps: z.number().int().min(1).max(120).default(VIDEO_FPS),
    bitrateKbps: z.number().int().min(50).max(50_000).default(800),
    keyframeIntervalFrames: z.number().int().min(1).max(10_000).default(VIDEO_FPS),
    maxQueuedFrames: z.number().int().min(1).max(100).default(4),
    maxOutputFrames: z.number().int().min(1).max(1000).default(8),
    ffmpegPath: z.string().min(1).default('ffmpeg'),
  })
  .strict();

export function normalizeVp8EncoderOptions(options: Vp8EncoderOptions = {}): NormalizedVp8EncoderOptions {
  const r = optionsSchema.safeParse(options);
  if (!r.success) throw new MediaOptionsError(`invalid Vp8Encoder options: ${z.prettifyError(r.error)}`);
  return Object.freeze(r.data);
}

export function ffmpegVp8Args(o: NormalizedVp8EncoderOptions): string[] {
  // prettier-ignore
  return [
    '-hide_banner', '-nostdin', '-nostats', '-loglevel', 'warning',
    '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${o.width}x${o.height}`, '-r', String(o.fps), '-i', 'pipe:0',
    // passthrough: never duplicate or drop frames, which would break in-order pts matching.
    '-fps_mode', 'passthrough',
    '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1',
    '-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0',
    '-b:v', `${o.bitrateKbps}k`,
    // keyint_min == g makes libvpx place keyframes on a fixed grid instead of "at most every g".
    '-g', String(o.keyframeIntervalFrames), '-keyint_min', String(o.keyframeIntervalFrames),
    // Write each frame to the pipe at once instead of filling avio's 32 KiB buffer first.
    '-flush_packets', '1',
    '-f', 'ivf', 'pipe:1',
  ];
}

interface InFlight {
  readonly ptsUs: number;
  /** Index of the frame in ffmpeg's input order (= its IVF pts in a 1/fps timebase). */
  readonly index: number;
  readonly enqueuedAt: number;
}

interface Queued {
  readonly ptsUs: number;
  readonly data: Buffer;
  readonly enqueuedAt: number;
}

type State = 'running' | 'ending' | 'failed' | 'closed';

export class Vp8Encoder extends TypedEmitter<Vp8EncoderEvents> {
  readonly options: NormalizedVp8EncoderOptions;
  readonly declaredLatencyUs = VP8_ENCODER_DECLARED_LATENCY_US;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #parser = new IvfParser();
  readonly #frameBytes: number;
  readonly #exited: Promise<void>;
  #state: State = 'running';
  #error: Vp8EncoderError | undefined;
  #closePromise: Promise<void> | undefined;
  #endPromise: Promise<void> | undefined;
  #queue: Queued[] = [];
  #inFlight: InFlight[] = [];
  #out: EncodedVideoFrame[] = [];
  #wake: (() => void) | undefined;
  #iterating = false;
  #outputDone = false;
  #lastPtsUs = -Infinity;
  #nextIndex = 0;
  #stderrTail = '';
  #stats = { framesIn: 0, framesOut: 0, keyframes: 0, droppedFrames: 0, lostInEncoder: 0 };
  #latency = { last: 0, sum: 0, max: 0 };

  constructor(options: Vp8EncoderOptions = {}) {
    super();
    this.options = normalizeVp8EncoderOptions(options);
    this.#frameBytes = (this.options.width * this.options.height * 3) / 2;
    const args = ffmpegVp8Args(this.options);
    log.debug({ args }, 'spawning ffmpeg');
    this.#child = spawn(this.options.ffmpegPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    lowerProcess(this.#child.pid, NICE.encoder);
    this.#exited = new Promise<void>((resolve) => {
      this.#child.once('close', (code, signal) => {
        this.#onExit(code, signal);
        resolve();
      });
      // A process that never started may not emit 'close'.
      this.#child.once('error', () => {
        if (this.#child.pid === undefined) resolve();
      });
    });
    this.#child.once('error', this.#onSpawnError);
    // EPIPE and friends surface as 'close' with a non-zero code; without a listener they would crash the process.
    this.#child.stdin.on('error', this.#onPipeError);
    this.#child.stdout.on('error', this.#onPipeError);
    this.#child.stderr.on('error', this.#onPipeError);
    this.#child.stdin.on('drain', this.#pump);
    this.#child.stdout.on('data', this.#onStdout);
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', this.#onStderr);
  }

  /** The fixed GOP: the longest a new viewer waits for a keyframe, in frames. */
  get keyframeIntervalFrames(): number {
    return this.options.keyframeIntervalFrames;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The ffmpeg process (for CPU accounting); undefined if it could not start. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  get stats(): Vp8EncoderStats {
    const n = this.#stats.framesOut;
    return {
      ...this.#stats,
      queuedFrames: this.#queue.length,
      inFlightFrames: this.#inFlight.length,
      latencyMs: { last: this.#latency.last, mean: n ? this.#latency.sum / n : 0, max: this.#latency.max },
    };
  }

  /**
   * Queues one frame for encoding; never blocks. pts must increase. The frame is copied, so the
   * caller may reuse its buffer. Throws MediaInputError on a bad frame, MediaClosedError once
   * the encoder is ending, failed or closed.
   */
  encode(frame: VideoFrame): void {
    if (this.#state !== 'running') {
      throw new MediaClosedError(`Vp8Encoder is ${this.#state}`, { cause: this.#error });
    }
    const { width, height } = this.options;
    if (frame.width !== width || frame.height !== height) {
      throw new MediaInputError(`frame is ${frame.width}x${frame.height}, encoder expects ${width}x${height}`);
    }
    if (frame.i420.length !== this.#frameBytes) {
      throw new MediaInputError(`I420 frame must be ${this.#frameBytes} bytes, got ${frame.i420.length}`);
    }
    if (!Number.isFinite(frame.ptsUs) || frame.ptsUs <= this.#lastPtsUs) {
      throw new MediaInputError(`frame ptsUs ${frame.ptsUs} does not follow ${this.#lastPtsUs}`);
    }
    this.#lastPtsUs = frame.ptsUs;
    this.#stats.framesIn++;
    this.#queue.push({ ptsUs: frame.ptsUs, data: Buffer.from(frame.i420), enqueuedAt: performance.now() });
    if (this.#queue.length > this.options.maxQueuedFrames) {
      const dropped = this.#queue.shift();
      this.#stats.droppedFrames++;
      log.debug({ ptsUs: dropped?.ptsUs, dropped: this.#stats.droppedFrames }, 'encoder input queue full, dropped oldest');
    }
    this.#pump();
  }

  /**
   * The encoded frames, in input order. One consumer only. Ends after close() or end();
   * throws the Vp8EncoderError if ffmpeg fails (after yielding what it did encode).
   */
  async *frames(): AsyncGenerator<EncodedVideoFrame, void, undefined> {
    if (this.#iterating) throw new Error('Vp8Encoder.frames() already has a consumer');
    this.#iterating = true;
    for (;;) {
      const frame = this.#out.shift();
      if (frame) {
        if (this.#out.length < this.options.maxOutputFrames) this.#child.stdout.resume();
        yield frame;
        continue;
      }
      if (this.#outputDone) {
        if (this.#error) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  /**
   * Graceful stop: encode what is queued, let ffmpeg flush and exit, then close. Output keeps
   * its block policy, so this resolves only once the frames() consumer has kept up.
   */
  end(): Promise<void> {
    this.#endPromise ??= this.#end();
    return this.#endPromise;
  }

  async #end(): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'ending';
      // Everything queued goes in now; Node buffers it and ffmpeg drains it before EOF.
      for (const q of this.#queue.splice(0)) this.#write(q);
      this.#child.stdin.end();
      await this.#exited;
    }
    await this.close();
  }

  /** Kills ffmpeg (pending frames are discarded), awaits its exit, emits 'close'. Idempotent. */
  close(): Promise<void> {
    this.#closePromise ??= this.#close();
    return this.#closePromise;
  }

  async #close(): Promise<void> {
    // After end() the consumer still drains what was encoded; a plain close() discards it.
    if (this.#state === 'running') this.#out = [];
    if (this.#state !== 'failed') this.#state = 'closed';
    log.debug({ stats: this.stats }, 'closing');
    this.#queue = [];
    this.#inFlight = [];
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined) {
      // SIGKILL: we want none of ffmpeg's remaining output, and it cannot hang on a full pipe.
      this.#child.stdin.destroy();
      this.#child.kill('SIGKILL');
    }
    await this.#exited;
    this.#state = 'closed';
    this.#finishOutput();
    this.emit('close');
    this.removeAllListeners();
  }

  #pump = (): void => {
    // One frame is far larger than the pipe's highWaterMark, so after each write we wait for
    // 'drain': at most one frame sits in Node's buffer and the rest wait in the bounded queue.
    while (this.#queue.length > 0 && !this.#child.stdin.writableNeedDrain && this.#state === 'running') {
      const q = this.#queue.shift();
      if (q) this.#write(q);
    }
  };

  #write(q: Queued): void {
    if (this.#child.stdin.destroyed) return;
    this.#inFlight.push({ ptsUs: q.ptsUs, index: this.#nextIndex++, enqueuedAt: q.enqueuedAt });
    this.#child.stdin.write(q.data);
  }

  #onStdout = (chunk: Buffer): void => {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    let frames: IvfFrame[];
    try {
      frames = this.#parser.push(chunk);
    } catch (err) {
      const cause = err instanceof IvfParseError ? err : undefined;
      this.#fail(new Vp8EncoderError('ivf-corrupt', `unreadable IVF from ffmpeg: ${String(err)}`, { cause }));
      return;
    }
    const header = this.#parser.header;
    for (const f of frames) {
      // IVF pts counts input frames (timebase 1/fps); skip any entry ffmpeg consumed but never emitted.
      const index = header ? Math.round((Number(f.pts) * header.timebaseNum * this.options.fps) / header.timebaseDen) : -1;
      while (this.#inFlight.length > 1 && this.#inFlight[0].index < index) {
        this.#inFlight.shift();
        this.#stats.lostInEncoder++;
        log.warn({ index }, 'ffmpeg skipped a frame; resynchronized on IVF pts');
      }
      const src = this.#inFlight.shift();
      if (!src) {
        this.#fail(new Vp8EncoderError('ivf-corrupt', 'ffmpeg emitted more frames than it was given'));
        return;
      }
      const keyframe = isVp8Keyframe(f.data);
      const latency = performance.now() - src.enqueuedAt;
      metrics.stageSeconds.observe({ stage: 'encode' }, latency / 1000);
      this.#latency.last = latency;
      this.#latency.sum += latency;
      this.#latency.max = Math.max(this.#latency.max, latency);
      this.#stats.framesOut++;
      if (keyframe) this.#stats.keyframes++;
      this.#out.push({ ptsUs: src.ptsUs, data: f.data, keyframe });
    }
    if (this.#out.length >= this.options.maxOutputFrames) this.#child.stdout.pause();
    this.#wakeConsumer();
  };

  #onStderr = (text: string): void => {
    this.#stderrTail = (this.#stderrTail + text).slice(-STDERR_TAIL_BYTES);
    log.debug({ stderr: text.trimEnd() }, 'ffmpeg');
  };

  #onPipeError = (err: Error): void => {
    log.debug({ err }, 'ffmpeg pipe error');
  };

  #onSpawnError = (err: NodeJS.ErrnoException): void => {
    const missing = err.code === 'ENOENT';
    this.#fail(
      new Vp8EncoderError(
        missing ? 'ffmpeg-missing' : 'ffmpeg-spawn-failed',
        missing
          ? `ffmpeg not found at "${this.options.ffmpegPath}" (install ffmpeg with libvpx or set ffmpegPath)`
          : `could not start ffmpeg: ${err.message}`,
        { cause: err },
      ),
    );
  };

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    log.debug({ code, signal }, 'ffmpeg exited');
    const expected = this.#state === 'closed' || (this.#state === 'ending' && code === 0);
    if (!expected && this.#state !== 'failed') {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      const tail = this.#stderrTail.trim();
      this.#fail(new Vp8EncoderError('ffmpeg-exited', `ffmpeg exited unexpectedly (${how})${tail ? `: ${tail}` : ''}`));
    }
    this.#finishOutput();
  }

  #fail(error: Vp8EncoderError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#state = 'failed';
    this.#error = error;
    log.error({ err: error, stats: this.stats }, 'vp8 encoder failed');
    this.#finishOutput();
    this.emit('error', error);
    // Reap the process too; callers still call close(), which then only awaits the exit.
    if (this.#child.pid !== undefined && this.#child.exitCode === null) this.#child.kill('SIGKILL');
  }

  #finishOutput(): void {
    this.#outputDone = true;
    this.#wakeConsumer();
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
