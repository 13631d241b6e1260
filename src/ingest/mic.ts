// Live microphone ingest: RTP (Opus) consumed in-process from mediasoup -> 20 ms chunks
// on the session's media clock. A chunk's media time comes from its RTP timestamp plus an
// offset: the smallest transit seen over the last two seconds (the fastest packet), so
// delivery jitter and event-loop stalls never move audio on the timeline. Only when that
// floor itself moves by more than maxDriftUs (the sender's clock drifts from ours, or it
// paused) is the stream re-anchored, and each re-anchor is counted.
import { parseRtpPacket, sequenceDelta } from '../media/rtp.ts';
import { OpusDecoder } from '../audio/opus-decoder.ts';
import { Chunker } from '../audio/chunker.ts';
import { CHUNK_MS, type AudioChunk } from '../media/types.ts';
import { moduleLogger } from '../log.ts';

const log = moduleLogger('ingest/mic');
const CHUNK_US = CHUNK_MS * 1000;
/** Packets whose transit floor anchors the timeline: two seconds of 20 ms packets. */
const TRANSIT_WINDOW = 100;
/** Packets that must all be late before the timeline moves forward (200 ms). */
const RECENT = 10;

export interface MicIngestOptions {
  /** Media time now (the session clock). */
  nowUs: () => number;
  /** How far the transit floor may move before re-anchoring, us. */
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
  /** RTP time since the current anchor's first packet, unwrapped, us. */
  #rtpUs = 0;
  /** pts = rtpUs + offset. */
  #offsetUs = 0;
  /** Transits (arrival media time - rtpUs) of the last TRANSIT_WINDOW packets. */
  #transits: number[] = [];
  #lastSeq = -1;
  #lastTs = 0;
  #prevLen = 960;
  /** End of the last chunk handed on: the timeline never goes back over it. */
  #emittedUntilUs = Number.NEGATIVE_INFINITY;

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
    const first = this.#lastSeq < 0 || !this.#chunker;
    const tsDelta = first ? 0 : (rtp.timestamp - this.#lastTs) >>> 0;
    this.#lastSeq = rtp.sequenceNumber;
    this.#lastTs = rtp.timestamp;
    const durUs = (pcm.length * 1000) / 48;
    // A pause of over a second (or the first packet): start a new anchor.
    if (first || tsDelta > 48_000) {
      this.#reanchor(now - durUs, !first);
    } else {
      this.#rtpUs += (tsDelta * 1000) / 48;
      this.#transits.push(now - durUs - this.#rtpUs);
      if (this.#transits.length > TRANSIT_WINDOW) this.#transits.shift();
      const maxDrift = this.#opts.maxDriftUs ?? 60_000;
      // Late for 200 ms running (a stall, or the sender's clock is slow): move forward now,
      // or that audio would miss the pacer. Early against the 2 s floor: move back, which
      // only trims latency, so it may wait for the longer evidence.
      const recent = this.#transits.length >= RECENT ? Math.min(...this.#transits.slice(-RECENT)) : -Infinity;
      const floor = Math.min(...this.#transits);
      if (recent - this.#offsetUs > maxDrift) {
        this.#reanchor(now - durUs, true, recent);
      } else if (this.#transits.length >= TRANSIT_WINDOW / 2 && this.#offsetUs - floor > maxDrift) {
        this.#reanchor(now - durUs, true, floor);
      } else if (tsDelta > this.#prevLen) {
        // Lost packets: fill their span with silence so later audio keeps its place.
        for (const c of this.#chunker!.push(new Int16Array(tsDelta - this.#prevLen))) this.#emit(c);
      }
    }
    this.#prevLen = pcm.length;
    for (const c of this.#chunker!.push(pcm)) this.#emit(c);
  }

  #emit(chunk: AudioChunk): void {
    this.#emittedUntilUs = Math.max(this.#emittedUntilUs, chunk.ptsUs + CHUNK_US);
    this.#opts.onChunk(chunk);
  }

  /** Starts the timeline over at this packet: pts = its RTP time + the transit floor. */
  #reanchor(arrivalPtsUs: number, counted: boolean, floorUs?: number): void {
    if (counted) this.#stats.reanchors++;
    for (const c of this.#chunker?.flush() ?? []) this.#emit(c);
    const transit = floorUs === undefined ? arrivalPtsUs : floorUs + this.#rtpUs;
    // Align to the chunk grid so audio slots line up with video frames. Rounding down puts
    // the audio up to one chunk earlier than it arrived, which the output delay absorbs.
    // Never before audio already placed: a new anchor may move the timeline back (trimming latency), but only into
    // a gap, or the new audio would land on chunks already queued (found by the fuzz suite: random RTP timestamps).
    const pts = Math.max(Math.floor(transit / CHUNK_US) * CHUNK_US, this.#emittedUntilUs);
    this.#rtpUs = 0;
    this.#offsetUs = pts;
    this.#transits = [arrivalPtsUs];
    this.#chunker = new Chunker(pts, this.#opts.epoch());
  }
}
