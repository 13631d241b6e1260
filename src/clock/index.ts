// The session's one media clock (house rule 8). Media time is microseconds since the
// session started; every chunk and frame is stamped on it. Only the pacer waits on it.
import { setTimeout as sleep } from 'node:timers/promises';

/** NTP epoch (1900) to Unix epoch (1970), seconds. */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

export interface NtpTime {
  readonly seconds: number;
  readonly fraction: number;
}

export interface ClockSource {
  /** Monotonic microseconds. */
  monotonicUs(): number;
  /** Wall-clock microseconds since the Unix epoch, read once at the anchor. */
  wallUs(): number;
}

export const systemClockSource: ClockSource = {
  monotonicUs: () => Number(process.hrtime.bigint() / 1000n),
  wallUs: () => Date.now() * 1000,
};

export class MediaClock {
  readonly #source: ClockSource;
  readonly #originMonoUs: number;
  /** Wall time at media time 0: anchors RTCP sender reports (NTP) to the media timeline. */
  readonly #originWallUs: number;

  constructor(source: ClockSource = systemClockSource) {
    this.#source = source;
    this.#originMonoUs = source.monotonicUs();
    this.#originWallUs = source.wallUs();
  }

  /** Current media time in microseconds. */
  nowUs(): number {
    return this.#source.monotonicUs() - this.#originMonoUs;
  }

  /** Wall time (Unix us) that corresponds to a media time; used for SRs and for tests. */
  wallUsAt(mediaUs: number): number {
    return this.#originWallUs + mediaUs;
  }

  /** NTP timestamp (RFC 3550) for a media time. */
  ntpAt(mediaUs: number): NtpTime {
    const wallUs = this.wallUsAt(mediaUs);
    const unixS = Math.floor(wallUs / 1_000_000);
    const fracUs = wallUs - unixS * 1_000_000;
    return { seconds: (unixS + NTP_UNIX_OFFSET_S) >>> 0, fraction: Math.floor((fracUs / 1_000_000) * 2 ** 32) >>> 0 };
  }

  /** Resolves when the clock reaches mediaUs (or at once if passed, or when aborted). */
  async waitUntil(mediaUs: number, signal?: AbortSignal): Promise<void> {
    // Timers have millisecond granularity and may fire a little early: loop until reached.
    for (let left = mediaUs - this.nowUs(); left > 0; left = mediaUs - this.nowUs()) {
      try {
        await sleep(Math.max(1, Math.ceil(left / 1000)), undefined, { signal });
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
    }
  }
}
