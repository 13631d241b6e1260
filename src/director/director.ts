// The Director: takes transcript pieces, audio chunks and instructions as they arrive and publishes Plans
// (version-numbered) for [now, now + lookahead] of playback, ahead of the blueprint stage, which reads them
// through shotAt() (PlanSource). Nothing the caller does waits: inputs are stored and a background loop (an
// AbortSignal task, awaited on close) analyses audio and runs rounds. The rule-based round is instant and always
// publishes first; a chat backend's plan, when configured, replaces it if it comes back in time and valid.
import { metrics } from '../metrics/index.ts';
import { background } from '../util/cooperative.ts';
import type { AudioChunk } from '../media/types.ts';
import type { RecognitionResult } from '../asr/types.ts';
import { moduleLogger } from '../log.ts';
import { TypedEmitter } from '../util/typed-emitter.ts';
import { ChatPlanBackend } from './llm.ts';
import { planSchema, type Plan, type PlanSource, type Shot } from './types.ts';
import { transcriptPieceSchema, type AudioMeta, type TranscriptPiece } from './inputs.ts';
import { parseInstruction, type InstructionRecord } from './instructions.ts';
import { analyzePortrait, type PortraitAnalysis } from './portrait.ts';
import { ProsodyTracker } from './prosody.ts';
import { TranscriptTimeline } from './transcript.ts';
import { PlanTimeline, coversWindow } from './timeline.ts';
import { critiqueAndFinish, defaultExperts, runRound } from './rounds.ts';
import { critiqueWords, proposalsWords, TraceRing } from './trace.ts';
import { LatencyWindow } from '../asr/util.ts';
import type { DraftPlan, Expert, PlanContext, Proposal } from './experts/types.ts';
import {
  DirectorClosedError,
  DirectorInputError,
  directorOptionsSchema,
  type ChatStatus,
  type DirectorDeps,
  type DirectorEvents,
  type DirectorMetrics,
  type DirectorOptions,
  type NormalizedDirectorOptions,
  type RoundKind,
  type RoundTrace,
} from './director-types.ts';

const log = moduleLogger('director');
/** Chunks of pending audio analysed in one unit of work (prosody: pitch and energy): 0.5 s of audio. */
const DRAIN_SLICE_CHUNKS = 25;
/** Sentences this recent before the window still set its mood. */
const MOOD_MEMORY_US = 6_000_000;

export class Director extends TypedEmitter<DirectorEvents> implements PlanSource {
  readonly options: Readonly<NormalizedDirectorOptions>;
  readonly #deps: DirectorDeps;
  readonly #experts: readonly Expert[];
  readonly #portrait: PortraitAnalysis | null;
  readonly #chat: ChatPlanBackend | null;
  readonly #prosody: ProsodyTracker;
  readonly #transcript = new TranscriptTimeline();
  readonly #plans: PlanTimeline;
  readonly #trace: TraceRing;
  readonly #instructions: InstructionRecord[] = [];
  readonly #pending: { chunk: AudioChunk; meta: AudioMeta }[] = [];
  readonly #abort = new AbortController();
  readonly #latency = new LatencyWindow(200);
  readonly #perShot = new LatencyWindow(400);
  readonly #metrics: Omit<DirectorMetrics, 'planLatencyMs' | 'planLatencyPerShotMs' | 'recognizer'> = {
    rounds: 0, plansPublished: 0, fallbacks: 0, lateAnswers: 0, chatRequests: 0, chatAccepted: 0, lastLeadMs: 0, droppedChunks: 0, invalidPlans: 0,
  };
  #lastLatencyMs = 0;
  #version = 0;
  #round = 0;
  /** Bumped by every input that should change the plan (words, instructions, interrupts). */
  #inputRevision = 0;
  #plannedRevision = -1;
  #interruptPending = false;
  #lastRoundWallMs = -Infinity;
  #chatInFlight: { controller: AbortController } | null = null;
  /** Every chat call still running (an aborted one settles quickly); awaited on close. */
  readonly #chatTasks = new Set<Promise<void>>();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #closed = false;

  constructor(options: DirectorOptions, deps: DirectorDeps) {
    super();
    this.options = Object.freeze(directorOptionsSchema.parse(options));
    this.#deps = deps;
    this.#experts = deps.experts ?? defaultExperts();
    this.#portrait = deps.portrait ? analyzePortrait(deps.portrait) : null;
    this.#chat = this.options.chat ? new ChatPlanBackend(this.options.chat) : null;
    this.#prosody = new ProsodyTracker();
    this.#plans = new PlanTimeline(this.options.maxPlans);
    this.#trace = new TraceRing(this.options.maxTrace);
    deps.recognizer?.on('result', this.#onWords);
    deps.recognizer?.on('error', this.#onRecognizerError);
  }

  /** Starts the background loop. Idempotent. */
  start(): void {
    if (this.#closed) throw new DirectorClosedError();
    this.#loop ??= this.#run(this.#abort.signal).catch((err) => {
      log.error({ err }, 'director loop stopped on an error');
      this.emit('error', err as Error);
    });
  }

  // --- inputs (none of these wait) ---------------------------------------------------------------------------

  /** Text of a TTS turn (whole or a piece, optionally timed) or recognised words. Throws DirectorInputError on bad input. */
  transcript(piece: TranscriptPiece): void {
    if (this.#closed) return;
    const parsed = transcriptPieceSchema.safeParse(piece);
    if (!parsed.success) throw new DirectorInputError(`invalid transcript piece: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'piece'}: ${i.message}`).join('; ')}`);
    this.#transcript.add(parsed.data);
    this.#inputRevision++;
    this.#poke();
  }

  /** An audio chunk: a TTS turn's (meta.segmentId) or live (no segment; also fed to the recogniser). */
  audio(chunk: AudioChunk, meta: AudioMeta = {}): void {
    if (this.#closed) return;
    this.#pending.push({ chunk, meta });
    if (this.#pending.length > this.options.maxPendingChunks) {
      this.#pending.shift();
      this.#metrics.droppedChunks++;
    }
  }

  /** A user instruction, effective from atUs (default: now). Returns how it was understood. */
  instruction(text: string, atUs?: number): InstructionRecord {
    if (typeof text !== 'string' || text.length > 2_000) throw new DirectorInputError('an instruction is a string of at most 2000 characters');
    const rec = parseInstruction(text, Math.max(0, Math.round(atUs ?? this.#deps.nowUs())));
    if (this.#closed) return rec;
    log.debug({ text, atUs: rec.atUs, constraints: rec.constraints.length, notUnderstood: rec.notUnderstood }, 'instruction');
    this.#instructions.push(rec);
    if (this.#instructions.length > this.options.maxInstructions) this.#instructions.shift();
    this.#inputRevision++;
    this.#poke();
    return rec;
  }

  /** Barge-in at atUs (default now): nothing planned from there on stands; a listening plan follows at once. */
  interrupt(atUs?: number): void {
    if (this.#closed) return;
    const at = Math.max(0, Math.round(atUs ?? this.#deps.nowUs()));
    log.debug({ atUs: at }, 'interrupt');
    // Audio queued for analysis from the cut on will never play.
    const keep = this.#pending.filter((p) => p.chunk.ptsUs < at);
    this.#pending.length = 0;
    this.#pending.push(...keep);
    this.#plans.truncate(at);
    this.#transcript.interrupt(at);
    this.#prosody.truncate(at);
    this.#deps.recognizer?.interrupt(at);
    this.#chatInFlight?.controller.abort();
    this.#inputRevision++;
    this.#interruptPending = true;
    this.#poke();
  }

  /** End of a turn or of live speech for now: the recogniser finishes what it heard. */
  endOfSpeech(): void {
    this.#deps.recognizer?.flush();
  }

  // --- outputs ---------------------------------------------------------------------------------------------

  shotAt(ptsUs: number): Shot | undefined {
    return this.#plans.shotAt(ptsUs);
  }

  planAt(ptsUs: number): Plan | undefined {
    return this.#plans.planAt(ptsUs);
  }

  get latestPlan(): Plan | undefined {
    return this.#plans.latest;
  }

  /** The newest rounds (default all kept), oldest first, as JSON-ready objects. */
  trace(limit?: number): RoundTrace[] {
    return this.#trace.list(limit);
  }

  get instructions(): readonly InstructionRecord[] {
    return this.#instructions;
  }

  get metrics(): DirectorMetrics {
    const r = this.#deps.recognizer;
    return {
      ...this.#metrics,
      planLatencyMs: { last: this.#lastLatencyMs, p50: this.#latency.median(), p95: this.#latency.quantile(0.95) },
      planLatencyPerShotMs: { p50: this.#perShot.median(), p95: this.#perShot.quantile(0.95) },
      ...(r ? { recognizer: { name: r.name, results: r.stats.results, words: r.stats.words, medianLatencyMs: r.stats.medianLatencyMs, errors: r.stats.errors, droppedSegments: r.stats.droppedSegments } } : {}),
    };
  }

  /**
   * Runs one round now, synchronously (the loop does this by itself; tests and benches call it directly).
   * Pending audio is analysed first. Returns the rule-based plan of the round.
   */
  planNow(kind: RoundKind = 'manual'): Plan {
    if (this.#closed) throw new DirectorClosedError();
    this.#drainAudio();
    return this.#runRound(kind);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    this.#chatInFlight?.controller.abort();
    this.#wake?.();
    await this.#loop;
    await Promise.all([...this.#chatTasks]);
    const r = this.#deps.recognizer;
    if (r) {
      r.off('result', this.#onWords);
      r.off('error', this.#onRecognizerError);
      await r.close();
    }
    this.removeAllListeners();
  }

  // --- internals ------------------------------------------------------------------------------------------

  #poke(): void {
    this.#wake?.();
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // Audio still waiting (a whole TTS turn arrived at once): its next batch in the main thread's next turn.
      if (this.#pending.length === 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.options.tickMs);
          function done(): void {
            clearTimeout(timer);
            resolve();
          }
          this.#wake = done;
        });
        this.#wake = null;
      }
      if (signal.aborted) break;
      try {
        // Analysis and planning are units of the main thread's cooperative queue: a few ms per loop turn.
        await background.run(() => metrics.time('director', () => this.#drainAudio(DRAIN_SLICE_CHUNKS)));
        const kind = this.#dueRound();
        if (kind && !signal.aborted) await background.run(() => metrics.time('director', () => this.#runRound(kind)));
      } catch (err) {
        log.error({ err }, 'director round failed; the last plan stands');
        this.emit('error', err as Error);
      }
    }
  }

  #dueRound(): RoundKind | null {
    if (this.#interruptPending) return 'interrupt';
    if (this.#inputRevision !== this.#plannedRevision) return 'input';
    const now = this.#deps.nowUs();
    const lowCoverage = this.#plans.coverageEndUs - now < (this.options.lookaheadMs * 1000) / 2;
    if (lowCoverage || performance.now() - this.#lastRoundWallMs >= this.options.replanIntervalMs) return 'refresh';
    return null;
  }

  /** Analyses pending audio, at most `max` chunks of it (the loop takes a whole turn's audio in slices). */
  #drainAudio(max = Infinity): void {
    const batch = this.#pending.splice(0, Math.min(max, this.#pending.length));
    for (const { chunk, meta } of batch) {
      this.#prosody.push(chunk);
      const endUs = chunk.ptsUs + (chunk.samples.length / 48_000) * 1e6;
      if (meta.segmentId != null) this.#transcript.audio(meta.segmentId, chunk.ptsUs, endUs, meta.last ?? false);
      else this.#deps.recognizer?.push(chunk);
    }
  }

  #context(now: number): PlanContext {
    const startUs = Math.max(0, Math.round(now + this.options.guardMs * 1000));
    const endUs = startUs + this.options.lookaheadMs * 1000;
    this.#transcript.prune(now - 30_000_000);
    return {
      startUs,
      endUs,
      nowUs: now,
      audioKnownUntilUs: this.#prosody.knownUntilUs,
      sentences: this.#transcript.sentences(startUs, endUs, this.#prosody),
      recent: this.#transcript.sentences(startUs - MOOD_MEMORY_US, startUs, this.#prosody).filter((x) => x.endUs <= startUs),
      prosody: this.#prosody,
      portrait: this.#portrait,
      instructions: [...this.#instructions],
    };
  }

  #runRound(kind: RoundKind): Plan {
    const t0 = performance.now();
    const now = this.#deps.nowUs();
    const revision = this.#inputRevision;
    this.#plannedRevision = revision;
    this.#interruptPending = false;
    this.#lastRoundWallMs = t0;
    const ctx = this.#context(now);
    const out = runRound(ctx, this.#experts);
    const plan: Plan = Object.freeze({ version: this.#version + 1, startUs: ctx.startUs, endUs: ctx.endUs, shots: out.shots as Shot[], source: 'rules' });
    const latencyMs = performance.now() - t0;
    this.#metrics.rounds++;
    this.#lastLatencyMs = latencyMs;
    this.#latency.add(latencyMs);
    this.#perShot.add(latencyMs / plan.shots.length);
    // A standing chat plan is kept through refreshes while it covers enough; new input always takes effect.
    const latest = this.#plans.latest;
    const keepChat = kind === 'refresh' && latest?.source === 'llm' && latest.endUs - now >= (this.options.lookaheadMs * 1000) / 2;
    const published = !keepChat && this.#publish(plan);
    const entry: RoundTrace = {
      round: ++this.#round,
      kind,
      atUs: now,
      window: { startUs: ctx.startUs, endUs: ctx.endUs },
      latencyMs,
      proposals: proposalsWords(out),
      merge: [...out.mergeNotes],
      critiques: critiqueWords(out.critiques),
      negative: out.negativeReasons,
      final: published ? this.#plans.latest! : plan,
      published,
    };
    this.#trace.push(entry);
    // While a chat plan stands and covers enough, refreshes do not ask again (one request per input, or per half look-ahead).
    if (this.#chat && !keepChat) this.#askChat(ctx, out.proposals, out.shots, revision, entry, kind);
    return entry.final;
  }

  /** Validates and publishes; assigns the next version. False (and counted) when the plan is invalid. */
  #publish(candidate: Plan): boolean {
    const plan: Plan = Object.freeze({ ...candidate, version: this.#version + 1 });
    const parsed = planSchema.safeParse(plan);
    const gap = parsed.success ? coversWindow(plan) : parsed.error.issues[0]?.message ?? 'invalid';
    if (gap) {
      this.#metrics.invalidPlans++;
      log.error({ problem: gap, source: plan.source }, 'plan failed validation: not published');
      return false;
    }
    this.#version = plan.version;
    this.#plans.publish(plan);
    this.#metrics.plansPublished++;
    this.#metrics.lastLeadMs = (plan.endUs - this.#deps.nowUs()) / 1000;
    this.emit('plan', plan);
    return true;
  }

  #askChat(ctx: PlanContext, proposals: readonly Proposal[], rulesShots: readonly Shot[], revision: number, entry: RoundTrace, kind: RoundKind): void {
    if (this.#chatInFlight) {
      // New input makes the answer in flight stale; a refresh waits for it instead.
      if (kind === 'refresh') return;
      this.#chatInFlight.controller.abort();
    }
    const chat = this.#chat!;
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, this.#abort.signal]);
    this.#metrics.chatRequests++;
    entry.chat = { status: 'pending', detail: 'asked the chat backend' };
    const task = chat.plan({ ctx, proposals, rulesShots }, signal).then((result) => {
      if (this.#chatInFlight?.controller === controller) this.#chatInFlight = null;
      if (this.#closed) return;
      const now = this.#deps.nowUs();
      if (!result.ok) {
        if (result.reason === 'aborted') {
          entry.chat = { status: 'superseded', latencyMs: result.latencyMs, detail: 'newer input arrived before the answer' };
          return;
        }
        this.#fallback(entry, result.reason, result.detail, result.latencyMs);
        return;
      }
      if (revision !== this.#inputRevision || now > ctx.startUs + this.options.lateToleranceMs * 1000) {
        this.#metrics.lateAnswers++;
        const status: ChatStatus = revision !== this.#inputRevision ? 'superseded' : 'late';
        const detail = status === 'late' ? `playback was ${((now - ctx.startUs) / 1000).toFixed(0)} ms past the window's start` : 'newer input arrived meanwhile';
        entry.chat = { status, latencyMs: result.latencyMs, detail };
        this.emit('fallback', { reason: status, detail });
        return;
      }
      // The experts critique the chat plan under the same priorities, and the negative director has its say.
      const finished = critiqueAndFinish(ctx, this.#experts, draftFromShots(result.shots, ctx));
      const plan: Plan = { version: 0, startUs: ctx.startUs, endUs: ctx.endUs, shots: finished.shots as Shot[], source: 'llm' };
      if (!this.#publish(plan)) {
        this.#fallback(entry, 'invalid', 'the critiqued chat plan failed validation', result.latencyMs);
        return;
      }
      this.#metrics.chatAccepted++;
      entry.chat = { status: 'accepted', latencyMs: result.latencyMs, detail: result.repaired.length ? `accepted after repairs: ${result.repaired.join('; ')}` : 'accepted', plan: this.#plans.latest!, critiques: critiqueWords(finished.critiques) };
    });
    const tracked: Promise<void> = task
      .catch((err) => {
        log.error({ err }, 'chat plan handling failed; the rule-based plan stands');
        this.emit('error', err as Error);
      })
      .finally(() => this.#chatTasks.delete(tracked));
    this.#chatTasks.add(tracked);
    this.#chatInFlight = { controller };
  }

  #fallback(entry: RoundTrace, reason: ChatStatus, detail: string, latencyMs: number): void {
    this.#metrics.fallbacks++;
    entry.chat = { status: reason, latencyMs, detail: `${detail}; the rule-based plan stands` };
    log.warn({ reason, detail }, 'chat backend failed: rule-based plan stands');
    this.emit('fallback', { reason, detail });
  }

  readonly #onWords = (result: RecognitionResult): void => {
    if (this.#closed || result.words.length === 0) return;
    this.emit('words', result);
    this.transcript({ text: result.text, words: result.words.map((w) => ({ word: w.word, startUs: w.startUs, endUs: Math.max(w.startUs, w.endUs), confidence: w.confidence })), final: true });
  };

  readonly #onRecognizerError = (err: Error): void => {
    log.warn({ err }, 'recogniser error');
    this.emit('error', err);
  };
}

/** A chat plan as a draft whose every value comes from the chat backend (ranked with the transcript). */
function draftFromShots(shots: readonly Shot[], ctx: PlanContext): DraftPlan {
  const src = 'llm' as const;
  const why = 'the chat backend';
  return {
    startUs: ctx.startUs,
    endUs: ctx.endUs,
    shots: shots.map((s) => ({
      startUs: s.startUs,
      endUs: s.endUs,
      emotion: { value: s.emotion, source: src, reason: why },
      intensity: { value: s.intensity, source: src, reason: why },
      gaze: { value: s.gaze, source: src, reason: why },
      headMotion: { value: s.headMotion, source: src, reason: why },
      motionAmplitude: { value: s.motionAmplitude, source: src, reason: why },
      camera: { value: s.camera, source: src, reason: why },
      gestures: s.gestures.map((g) => ({ ...g, source: src, reason: why })),
      avoid: s.negative.avoid.map((what) => ({ what, startUs: s.startUs, endUs: s.endUs, source: src, reason: `the chat backend: ${s.negative.description.slice(0, 80)}` })),
      description: s.description,
    })),
  };
}
