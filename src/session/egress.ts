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
  error: [err: Vp8EncoderError];
};

export class Egress extends TypedEmitter<EgressEvents> {
  readonly #encoder: Vp8Encoder;
  readonly #opus = new OpusChunkEncoder({ bitrate: 48_000 });
  readonly #video: RtpStreamSender;
  readonly #audio: RtpStreamSender;
  readonly #task: Promise<void>;
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
    this.#encoder = new Vp8Encoder({ width: opts.width, height: opts.height, fps: 25, bitrateKbps: opts.videoKbps, keyframeIntervalFrames: opts.keyframeIntervalFrames });
    const anchor = { mediaUs: 0, unixMs: clock.wallUsAt(opts.sendDelayUs) / 1000 };
    const sendRtcp = (b: Buffer) => room.sendEgressRtcp(b);
    const vssrc = room.videoProducer.rtpParameters.encodings?.[0]?.ssrc;
    const assrc = room.audioProducer.rtpParameters.encodings?.[0]?.ssrc;
    if (vssrc === undefined || assrc === undefined) throw new Error('egress producers have no SSRC');
    const playoutDelay = opts.videoPlayoutDelayMaxMs === null ? undefined : { extensionId: PLAYOUT_DELAY_EXTENSION_ID, minMs: 0, maxMs: opts.videoPlayoutDelayMaxMs };
    this.#video = new RtpStreamSender({ codec: 'vp8', ssrc: vssrc, payloadType: VIDEO_PAYLOAD_TYPE, anchor, playoutDelay, send: (b) => room.sendVideoRtp(b), sendRtcp });
    this.#audio = new RtpStreamSender({ codec: 'opus', ssrc: assrc, payloadType: AUDIO_PAYLOAD_TYPE, audioLevelExtensionId: AUDIO_LEVEL_EXTENSION_ID, anchor, send: (b) => room.sendAudioRtp(b), sendRtcp });
    this.#encoder.on('error', (err) => {
      if (!this.#closed) this.emit('error', err);
    });
    this.#task = this.#pump();
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
    return { ...this.#encoder.stats, video: this.#video.stats, audio: this.#audio.stats };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#encoder.close();
    await this.#task;
    this.#video.close();
    this.#audio.close();
    this.#opus.close();
    this.removeAllListeners();
  }

  async #pump(): Promise<void> {
    try {
      for await (const frame of this.#encoder.frames()) {
        if (this.#closed) break;
        metrics.time('rtp', () => this.#video.sendFrame(frame));
        this.#recent.push(frame.ptsUs);
        while (this.#recent.length > 0 && this.#recent[0] <= frame.ptsUs - 1_000_000) this.#recent.shift();
      }
    } catch (err) {
      if (!this.#closed) log.error({ err }, 'video egress stopped');
    }
  }
}
