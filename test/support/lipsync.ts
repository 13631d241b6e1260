// The lip-sync measure on frames and audio a page received: how open the mouth is per frame
// (dark cavity in the mouth region) against the received audio envelope.
import { bestLagCorrelation, mean, mouthOpening, percentile, sampleAt, seriesAt, smooth } from './signal-analysis.ts';
import type { Recording } from './page-api.ts';

export interface LipSyncResult {
  /** Pearson r of mouth activity vs the audio envelope at the best lag. */
  r: number;
  /** Lag of the best r, ms: positive = the mouth moves after the sound. */
  lagMs: number;
  /** Mean mouth activity in silent frames over that in speech frames. */
  silenceRatio: number;
  /** r for the same activity against the envelope shuffled in 200 ms blocks (the chance level). */
  shuffledR: number;
  speechFrames: number;
  silentFrames: number;
  fps: number;
}

export function measureLipSync(rec: Recording): LipSyncResult {
  const { frames, audio } = rec;
  const env = smooth(audio.envelope, 5);
  const envAt = (t: number) => (audio.times?.length === env.length ? seriesAt(audio.times, env, t) : sampleAt(env, audio.t0, 10, t));
  const peak = percentile(env, 0.95) || 1e-9;
  const envFrames = frames.t.map(envAt);
  const rest = envFrames.map((e, i) => ({ e, i })).filter(({ e }) => e < 0.05 * peak).map(({ i }) => i);
  const restIdx = rest.length >= 5 ? rest : envFrames.map((e, i) => ({ e, i })).sort((a, b) => a.e - b.e).slice(0, Math.max(5, Math.floor(envFrames.length / 5))).map(({ i }) => i);
  const activity = mouthOpening(frames.gray, restIdx);
  const best = bestLagCorrelation(frames.t, activity, envAt, -300, 300, 10);
  const speech = envFrames.map((e, i) => (e > 0.3 * peak ? activity[i] : NaN)).filter((x) => !Number.isNaN(x));
  // Silent frames well inside silence: the envelope stays low 200 ms either side.
  const silent = frames.t
    .map((t, i) => ({ i, quiet: [-200, -100, 0, 100, 200].every((d) => envAt(t + d) < 0.05 * peak) }))
    .filter((x) => x.quiet)
    .map(({ i }) => activity[i]);
  const blocks: number[][] = [];
  for (let i = 0; i < env.length; i += 20) blocks.push(env.slice(i, i + 20));
  const shuffled = blocks.map((b, i) => blocks[(i * 7 + 3) % blocks.length] ?? b).flat();
  const shuffledR = bestLagCorrelation(frames.t, activity, (t) => sampleAt(shuffled, audio.t0, 10, t), -300, 300, 10).r;
  return {
    r: best.r,
    lagMs: best.lagMs,
    silenceRatio: mean(silent) / Math.max(1e-9, mean(speech)),
    shuffledR,
    speechFrames: speech.length,
    silentFrames: silent.length,
    fps: (rec.decodedFrames * 1000) / rec.durationMs,
  };
}
