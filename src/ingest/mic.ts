// Live microphone ingest: RTP (Opus) consumed in-process from mediasoup -> 20 ms chunks
// on the session's media clock. The first packet anchors the sender's RTP clock to media
// time; later chunks follow the RTP timestamps, so network jitter never moves audio on the
// timeline. If the two clocks drift apart (or the sender paused), the anchor is reset.
import { parseRtpPacket, sequenceDelta } from '../media/rtp.ts';
import { OpusDecoder } from '../audio/opus-decoder.ts';
import { Chunker } from '../audio/chunker.ts';
import { CHUNK_MS, type AudioChunk } from '../media/types.ts';
import { moduleLogger } from '../log.ts';

const log = moduleLogger('ingest/mic');
const CHUNK_US = CHUNK_MS * 1000;

export interface MicIngestOptions {
  /** Media time now (the session clock). */
  nowUs: () => number;
  /** Largest |timeline - arrival| tolerated before re-anchoring, us. */
  maxDriftUs?: number;
  epoch: () => number;
  onChunk: (chunk: AudioChunk) => void;
}

export interface MicIngestStats {
  packets: number;
  malformed: number;
  lost: number;
  reordered: number;
  reanchors: number;
  /** Padding-only packets (bandwidth probes): no audio, but they use sequence numbers. */
  padding: number;
}

export class MicIngest {
  readonly #opts: MicIngestOptions;
  readonly #decoder = new OpusDecoder();
  readonly #stats: MicIngestStats = { packets: 0, malformed: 0, lost: 0, reordered: 0, reanchors: 0, padding: 0 };
  #chunker: Chunker | null = null;
  #anchorRtpTs = 0;
  #anchorPtsUs = 0;
  #lastSeq = -1;
  #lastTs = 0;

  constructor(opts: MicIngestOptions) {
    this.#opts = opts;
  }

  get stats(): Readonly<MicIngestStats> {
    return this.#stats;
  }

  /** Never throws: a bad packet is counted and logged, the stream goes on. */
  push(packet: Buffer): void {
    this.#stats.packets++;
    let rtp;
    let pcm: Int16Array;
    try {
      rtp = parseRtpPacket(packet);
      if (this.#lastSeq >= 0) {
        const d = sequenceDelta(this.#lastSeq, rtp.sequenceNumber);
        if (d <= 0) {
          // Too late to place on a timeline that moved on: count it.
          this.#stats.reordered++;
          return;
        }
        if (d > 1) this.#stats.lost += d - 1;
      }
      if (rtp.payload.length === 0) {
        this.#stats.padding++;
        this.#lastSeq = rtp.sequenceNumber;
        return;
      }
      pcm = this.#decoder.decode(rtp.payload);
    } catch (err) {
      this.#stats.malformed++;
      if (this.#stats.malformed <= 5) log.warn({ err }, 'dropping a malformed microphone packet');
      return;
    }
    const now = this.#opts.nowUs();
    const tsDelta = this.#lastSeq < 0 ? 0 : (rtp.timestamp - this.#lastTs) >>> 0;
    this.#lastSeq = rtp.sequenceNumber;
    this.#lastTs = rtp.timestamp;
    // Where this packet's first sample sits on the media timeline by the sender's clock.
    let pts = this.#anchorPtsUs + ((((rtp.timestamp - this.#anchorRtpTs) >>> 0) * 1000) / 48);
    const arrivalPts = now - (pcm.length * 1000) / 48; // the packet ends about now
    const maxDrift = this.#opts.maxDriftUs ?? 80_000;
    if (!this.#chunker || Math.abs(pts - arrivalPts) > maxDrift || tsDelta > 48 * 1000) {
      if (this.#chunker) this.#stats.reanchors++;
      for (const c of this.#chunker?.flush() ?? []) this.#opts.onChunk(c);
      // Align to the chunk grid so audio slots line up with video frames.
      pts = Math.ceil(arrivalPts / CHUNK_US) * CHUNK_US;
      this.#anchorRtpTs = rtp.timestamp;
      this.#anchorPtsUs = pts;
      this.#chunker = new Chunker(pts, this.#opts.epoch());
    } else if (tsDelta > pcm.length) {
      // Lost packets: fill their span with silence so later audio keeps its place.
      const gap = tsDelta - pcm.length;
      for (const c of this.#chunker.push(new Int16Array(gap))) this.#opts.onChunk(c);
    }
    for (const c of this.#chunker.push(pcm)) this.#opts.onChunk(c);
  }
}
