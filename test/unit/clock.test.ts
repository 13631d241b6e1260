import { describe, expect, it } from 'vitest';
import { MediaClock, type ClockSource } from '../../src/clock/index.ts';

function fakeSource(startMonoUs: number, wallUs: number) {
  let mono = startMonoUs;
  const src: ClockSource = { monotonicUs: () => mono, wallUs: () => wallUs };
  return { src, advance: (us: number) => (mono += us) };
}

describe('MediaClock', () => {
  it('counts media time from its origin on the monotonic clock', () => {
    const f = fakeSource(5_000_000, 1_700_000_000_000_000);
    const clock = new MediaClock(f.src);
    expect(clock.nowUs()).toBe(0);
    f.advance(40_000);
    expect(clock.nowUs()).toBe(40_000);
  });

  it('maps media time to NTP (RFC 3550: seconds since 1900, 32-bit fraction)', () => {
    const f = fakeSource(0, 1_700_000_000_000_000); // 2023-11-14T22:13:20Z
    const clock = new MediaClock(f.src);
    const ntp = clock.ntpAt(500_000);
    expect(ntp.seconds).toBe(1_700_000_000 + 2_208_988_800);
    expect(ntp.fraction).toBe(2 ** 31);
    expect(clock.wallUsAt(1_000)).toBe(1_700_000_000_001_000);
  });

  it('waitUntil resolves no earlier than the target on the real clock', async () => {
    const clock = new MediaClock();
    const target = clock.nowUs() + 30_000;
    await clock.waitUntil(target);
    expect(clock.nowUs()).toBeGreaterThanOrEqual(target);
  });

  it('waitUntil returns at once when aborted', async () => {
    const clock = new MediaClock();
    const ac = new AbortController();
    const p = clock.waitUntil(clock.nowUs() + 10_000_000, ac.signal);
    ac.abort();
    await p;
    expect(clock.nowUs()).toBeLessThan(1_000_000);
  });
});
