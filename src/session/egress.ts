// Egress: one VP8 encode and one Opus encode per session, whatever the number of viewers,
// produced into the session's room as RTP with sender reports on one media timeline.
import type { MediaClock } from '../clock/index.ts';
import type { RenderOutput } from '../cascade/types.ts';
import { Vp8Encoder } from '../media/vp8-encoder.ts';
import { OpusChunkEncoder } from '../media/opus-rtp.ts';
import { RtpStreamSender } from '../media/rtp-sender.ts';
import { audioLevelDbov } from '../media/rtp.ts';
import { rms } from '../audio/pcm.ts';
import type { Vp8EncoderError } from '../media/errors.ts';
import type { AudioChunk } from '../media/types.ts';
import { AUDIO_LEVEL_EXTENSION_ID, AUDIO_PAYLOAD_TYPE, PLAYOUT_DELAY_EXTENSION_ID, VIDEO_PAYLOAD_TYPE } from '../rtc/types.ts';
import type { Room } from '../rtc/room.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { moduleLogger } from '../log.ts';
import { metrics } from '../metrics/index.ts';

const log = moduleLogger('session/egress');

export interface EgressOptions {
  width: number;
  height: number;
  videoKbps: number;
  keyframeIntervalFrames: number;
  /** Media time t leaves the pacer at wall(t + sendDelay): sender reports say so. */
  sendDelayUs: number;
  /** Most smoothing delay viewers' browsers may add to the video (playout-delay extension); null: their own choice. */
  videoPlayoutDelayMaxMs: number | null;
}

type EgressEvents = {
  /** The encoder kept failing (more than MAX_ENCODER_RESTARTS in ENCODER_RESTART_WINDOW_MS): the session cannot go on. */
  error: [err: Vp8EncoderError];
};

/**
 * A dead ffmpeg (killed, crashed) is restarted: the new one starts with a keyframe and the stream goes on, with the
 * frames that were inside the old one lost. One that keeps dying is a broken setup, not bad luck: past this many
 * restarts within the window the egress gives up.
 */
const MAX_ENCODER_RESTARTS = 3;
const ENCODER_RESTART_WINDOW_MS = 60_000;

export class Egress extends TypedEmitter<EgressEvents> {
  #encoder: Vp8Encoder;
  readonly #encoderOptions: ConstructorParameters<typeof Vp8Encoder>[0];
  /** When the encoder was restarted, within the window; and how often in all. */
  #restartTimes: number[] = [];
  #restarts = 0;
  readonly #opus = new OpusChunkEncoder({ bitrate: 48_000 });
  readonly #video: RtpStreamSender;
  readonly #audio: RtpStreamSender;
  /** One pump per encoder (a restarted encoder gets its own); awaited on close. */
  readonly #tasks = new Set<Promise<void>>();
  /** Media times of video frames sent over the last second, for the fps figure. */
  readonly #recent: number[] = [];
  readonly #width: number;
  readonly #height: number;
  #lastAudioPts = -Infinity;
  #closed = false;

  constructor(room: Room, clock: MediaClock, opts: EgressOptions) {
    super();
    this.#width = opts.width;
    this.#height = opts.height;
    this.#encoderOptions = { width: opts.width, height: opts.height, fps: 25, bitrateKbps: opts.videoKbps, keyframeIntervalFrames: opts.keyframeIntervalFrames };
    const anchor = { mediaUs: 0, unixMs: clock.wallUsAt(opts.sendDelayUs) / 1000 };
    const sendRtcp = (b: Buffer) => room.sendEgressRtcp(b);
    const vssrc = room.videoProducer.rtpParameters.encodings?.[0]?.ssrc;
    const assrc = room.audioProducer.rtpParameters.encodings?.[0]?.ssrc;
    if (vssrc === undefined || assrc === undefined) throw new Error('egress producers have no SSRC');
    const playoutDelay = opts.videoPlayoutDelayMaxMs === null ? undefined : { extensionId: PLAYOUT_DELAY_EXTENSION_ID, minMs: 0, maxMs: opts.videoPlayoutDelayMaxMs };
    this.#video = new RtpStreamSender({ codec: 'vp8', ssrc: vssrc, payloadType: VIDEO_PAYLOAD_TYPE, anchor, playoutDelay, send: (b) => room.sendVideoRtp(b), sendRtcp });
    this.#audio = new RtpStreamSender({ codec: 'opus', ssrc: assrc, payloadType: AUDIO_PAYLOAD_TYPE, audioLevelExtensionId: AUDIO_LEVEL_EXTENSION_ID, anchor, send: (b) => room.sendAudioRtp(b), sendRtcp });
    this.#encoder = this.#startEncoder();
  }

  #startEncoder(): Vp8Encoder {
    const encoder = new Vp8Encoder(this.#encoderOptions);
    encoder.on('error', (err) => this.#onEncoderError(encoder, err));
    const task = this.#pump(encoder);
    this.#tasks.add(task);
    void task.finally(() => this.#tasks.delete(task));
    return encoder;
  }

  #onEncoderError(encoder: Vp8Encoder, err: Vp8EncoderError): void {
    if (this.#closed || encoder !== this.#encoder) return;
    const now = Date.now();
    this.#restartTimes = this.#restartTimes.filter((t) => now - t < ENCODER_RESTART_WINDOW_MS);
    void encoder.close().catch(() => undefined); // reaps it
    if (this.#restartTimes.length >= MAX_ENCODER_RESTARTS) {
      metrics.faults.inc({ kind: 'encoder-gave-up' });
      this.emit('error', err);
      return;
    }
    this.#restartTimes.push(now);
    this.#restarts++;
    metrics.faults.inc({ kind: 'encoder-restart' });
    log.warn({ err, restarts: this.#restarts }, 'video encoder died: restarted (a keyframe, then on)');
    this.#encoder = this.#startEncoder();
  }

  get declaredLatencyUs(): number {
    return this.#encoder.declaredLatencyUs;
  }

  sendVideo(frame: RenderOutput, ptsUs: number): void {
    if (this.#closed) return;
    if (frame.width !== this.#width || frame.height !== this.#height) throw new Error(`frame ${frame.width}x${frame.height} does not match the encoder`);
    this.#encoder.encode({ ptsUs, width: frame.width, height: frame.height, i420: frame.i420 });
  }

  sendAudio(chunk: AudioChunk): void {
    if (this.#closed || chunk.ptsUs <= this.#lastAudioPts) return;
    this.#lastAudioPts = chunk.ptsUs;
    const frame = { ...this.#opus.encode(chunk), audioLevelDbov: audioLevelDbov(rms(chunk.samples)) };
    metrics.time('rtp', () => this.#audio.sendFrame(frame));
  }

  stats(): { fps: number; videoKbps: number } {
    return { fps: this.#recent.length, videoKbps: Math.round(this.#video.stats.bitrateBps / 1000) };
  }

  /** Each stream's RTP clock: media time t has the timestamp offset + t x clockRate (mod 2^32). Receivers' figures
   *  (a presented frame's or a played packet's RTP timestamp) map back to media time with it. */
  get rtpClocks() {
    const clock = (s: RtpStreamSender) => ({ ssrc: s.ssrc, timestampOffset: s.options.timestampOffset, clockRate: s.options.clockRate });
    return { video: clock(this.#video), audio: clock(this.#audio) };
  }

  get encoderPid(): number | undefined {
    return this.#encoder.pid;
  }

  encoderStats() {
    return { ...this.#encoder.stats, restarts: this.#restarts, video: this.#video.stats, audio: this.#audio.stats };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#encoder.close();
    await Promise.all([...this.#tasks]);
    this.#video.close();
    this.#audio.close();
    this.#opus.close();
    this.removeAllListeners();
  }

  async #pump(encoder: Vp8Encoder): Promise<void> {
    try {
      for await (const frame of encoder.frames()) {
        if (this.#closed) break;
        metrics.time('rtp', () => this.#video.sendFrame(frame));
        this.#recent.push(frame.ptsUs);
        while (this.#recent.length > 0 && this.#recent[0] <= frame.ptsUs - 1_000_000) this.#recent.shift();
      }
    } catch (err) {
      // A dead encoder: #onEncoderError restarts it (or gives up), with its own pump.
      if (!this.#closed) log.debug({ err }, 'video pump of a failed encoder ended');
    }
  }
}
