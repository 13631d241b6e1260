// The server's Prometheus metrics (GET /metrics, text format, prom-client). One registry per process; stages
// observe into the named metrics below, the gauges read their figures when scraped. Every metric is documented in
// signaling/http-api.md ("Metrics").
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Pipeline stages timed per call (seconds). */
export type Stage = 'ingest' | 'audio_analysis' | 'director' | 'render' | 'encode' | 'rtp';

/** Tick lateness buckets, seconds: a tick within 10 ms is on time; 40 ms is a whole video frame. */
const LATENESS_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32];
const STAGE_BUCKETS = [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16];

export class FacecastMetrics {
  readonly registry = new Registry();
  readonly tickLateness = new Histogram({
    name: 'facecast_pacer_tick_lateness_seconds',
    help: 'How late each 20 ms pacer tick fired, all sessions',
    buckets: LATENESS_BUCKETS,
    registers: [this.registry],
  });
  readonly stageSeconds = new Histogram({
    name: 'facecast_stage_seconds',
    help: 'Time one call of a pipeline stage took on its thread (ingest: one 100 ms slice of a TTS message; audio_analysis: one 20 ms chunk; director: one analysis batch or planning round; render: one frame, request to pixels; encode: one frame through ffmpeg; rtp: one frame packetised and sent)',
    labelNames: ['stage'] as const,
    buckets: STAGE_BUCKETS,
    registers: [this.registry],
  });
  readonly frames = new Counter({
    name: 'facecast_video_frames_total',
    help: 'Video frames sent by the pacers, by kind: fresh (rendered in time), late (not ready: the last frame repeated), cut (an interrupt\'s extra frame)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly degradations = new Counter({
    name: 'facecast_degradation_steps_total',
    help: 'Times a session stepped down (or back up) its degradation ladder, by step and direction',
    labelNames: ['step', 'direction'] as const,
    registers: [this.registry],
  });
  readonly refusals = new Counter({
    name: 'facecast_session_refusals_total',
    help: 'Sessions refused at creation, by reason (at-capacity, session-limit)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly faults = new Counter({
    name: 'facecast_faults_total',
    help: 'Faults the server recovered from (or not), by kind: encoder-restart (a session\'s ffmpeg died and was restarted), encoder-gave-up (it kept dying: the session ended), mediasoup-worker-died, mediasoup-worker-respawned, session-moved (a session rebuilt on a new mediasoup worker)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly eventLoopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'facecast_process_' });
    this.eventLoopDelay.enable();
    const loop = this.eventLoopDelay;
    new Gauge({
      name: 'facecast_event_loop_delay_seconds',
      help: 'Main-thread event loop delay since the previous scrape (perf_hooks, 10 ms resolution), by quantile',
      labelNames: ['quantile'] as const,
      registers: [this.registry],
      collect() {
        for (const q of [50, 90, 99, 100]) this.set({ quantile: String(q / 100) }, (q === 100 ? loop.max : loop.percentile(q)) / 1e9);
        loop.reset();
      },
    });
  }

  /** A gauge whose value is read when scraped; a second one of the same name replaces the first (a new server). */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], read: (set: (labels: Partial<Record<L, string>>, value: number) => void) => void): void {
    this.registry.removeSingleMetric(name);
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        read((labels, value) => this.set(labels as never, value));
      },
    });
  }

  /** Times fn as one call of a stage. */
  time<T>(stage: Stage, fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.stageSeconds.observe({ stage }, (performance.now() - t0) / 1000);
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The process's metrics. */
export const metrics = new FacecastMetrics();
