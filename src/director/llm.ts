// The chat backend: any OpenAI-compatible /chat/completions endpoint plans the window from the experts' reports
// (it takes the merge step's place; the experts still critique its plan under the same priorities). The request
// asks for JSON matching a schema derived from the zod shot schema (response_format json_schema); the answer is
// validated with zod and normalised to cover the window. Timeouts, HTTP errors and invalid answers are results,
// not exceptions: the director then keeps the rule-based plan and counts a fallback.
import { z } from 'zod';
import { moduleLogger } from '../log.ts';
import { shotSchema, type Shot } from './types.ts';
import type { PlanContext, Proposal } from './experts/types.ts';
import { PRIORITY_ORDER, SOURCE_WORDS } from './priorities.ts';

const log = moduleLogger('director/llm');

export const chatBackendConfigSchema = z
  .object({
    /** e.g. http://127.0.0.1:8000/v1 (the path /chat/completions is appended). */
    baseUrl: z.string().url(),
    model: z.string().min(1).max(200),
    apiKey: z.string().max(500).optional(),
    /** Budget for the whole call, retries included. */
    timeoutMs: z.number().int().positive().max(120_000).default(3_000),
    /** Extra attempts after a network error or a 5xx/429 answer, within the budget. */
    retries: z.number().int().min(0).max(5).default(1),
    temperature: z.number().min(0).max(2).default(0),
    maxTokens: z.number().int().positive().max(32_000).default(3_000),
  })
  .strict();
export type ChatBackendConfig = z.input<typeof chatBackendConfigSchema>;

/** What the model must answer: the shots of the window. */
export const chatAnswerSchema = z.object({ shots: z.array(shotSchema).min(1).max(64) }).strict();
/** JSON Schema of the answer, derived from the zod schema ($schema dropped: some servers refuse it in response_format). */
export const CHAT_ANSWER_JSON_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze(
  Object.fromEntries(Object.entries(z.toJSONSchema(chatAnswerSchema, { target: 'draft-7', unrepresentable: 'any' })).filter(([k]) => k !== '$schema')),
);

export type ChatFailure = 'timeout' | 'http' | 'network' | 'invalid' | 'aborted';
export type ChatPlanResult =
  | { readonly ok: true; readonly shots: readonly Shot[]; readonly latencyMs: number; readonly attempts: number; readonly repaired: readonly string[] }
  | { readonly ok: false; readonly reason: ChatFailure; readonly detail: string; readonly latencyMs: number; readonly attempts: number };

export interface ChatPlanRequest {
  readonly ctx: PlanContext;
  readonly proposals: readonly Proposal[];
  /** The rule-based plan of the same round, as a draft the model may improve. */
  readonly rulesShots: readonly Shot[];
}

const SYSTEM_PROMPT = [
  'You are the director of a talking-head avatar video that streams in real time (KlingAvatar 2.0 co-reasoning director).',
  'Three experts reported on the upcoming window: audio (what the voice does), visual (what the portrait allows), text (the words and the user instructions).',
  `Resolve their conflicts by this priority, highest first: ${PRIORITY_ORDER.filter((s) => s !== 'llm').map((s) => SOURCE_WORDS[s]).join(' > ')}.`,
  'Answer with JSON only: {"shots":[...]} covering the window exactly, in order, without gaps; all times are integers in microseconds on the media timeline.',
  'Each shot: emotion and intensity, gaze, headMotion, motionAmplitude, gestures (nod, shake, tilt, brow-raise, smile) at the times they peak, camera, a one-line description,',
  'and its negative storyline: the things to avoid in that shot (for example look-away when told to keep eye contact, smile during sad content) with a description.',
].join(' ');

export class ChatPlanBackend {
  readonly config: Readonly<z.output<typeof chatBackendConfigSchema>>;

  constructor(config: ChatBackendConfig) {
    this.config = Object.freeze(chatBackendConfigSchema.parse(config));
  }

  /** Never throws; aborting `signal` ends the call with reason 'aborted'. */
  async plan(req: ChatPlanRequest, signal: AbortSignal): Promise<ChatPlanResult> {
    const t0 = performance.now();
    const budget = AbortSignal.timeout(this.config.timeoutMs);
    const both = AbortSignal.any([signal, budget]);
    const body = JSON.stringify({
      model: this.config.model,
      temperature: this.config.temperature,
      max_tokens: this.config.maxTokens,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: JSON.stringify(briefOf(req)) },
      ],
      response_format: { type: 'json_schema', json_schema: { name: 'director_plan', strict: true, schema: CHAT_ANSWER_JSON_SCHEMA } },
    });
    let attempts = 0;
    let last: ChatPlanResult | null = null;
    const fail = (reason: ChatFailure, detail: string): ChatPlanResult => ({ ok: false, reason, detail, latencyMs: performance.now() - t0, attempts });
    while (attempts <= this.config.retries) {
      attempts++;
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${this.config.baseUrl.replace(/\/$/, '')}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}) },
          body,
          signal: both,
        });
        text = await res.text();
      } catch (err) {
        if (signal.aborted) return fail('aborted', 'the director no longer needs this plan');
        if (budget.aborted) return fail('timeout', `no answer within ${this.config.timeoutMs} ms`);
        last = fail('network', (err as Error).message);
        continue;
      }
      if (res.status >= 500 || res.status === 429) {
        last = fail('http', `HTTP ${res.status}: ${text.slice(0, 200)}`);
        log.debug({ status: res.status, attempt: attempts }, 'chat endpoint error; retrying if the budget allows');
        continue;
      }
      if (!res.ok) return fail('http', `HTTP ${res.status}: ${text.slice(0, 200)}`);
      const parsed = parseAnswer(text, req.ctx);
      if (!parsed.ok) return fail('invalid', parsed.detail);
      return { ok: true, shots: parsed.shots, latencyMs: performance.now() - t0, attempts, repaired: parsed.repaired };
    }
    return last ?? fail('network', 'no attempt made');
  }
}

/** What the model is told: the window, the words, the experts' notes and proposals, the instructions, the rule plan. */
function briefOf(req: ChatPlanRequest): unknown {
  const { ctx } = req;
  return {
    window: { startUs: ctx.startUs, endUs: ctx.endUs, playbackNowUs: ctx.nowUs, audioKnownUntilUs: ctx.audioKnownUntilUs },
    transcript: ctx.sentences.map((s) => ({ text: s.text, startUs: s.startUs, endUs: s.endUs, wordTimesEstimated: s.tokens.some((t) => t.estimated) })),
    instructions: ctx.instructions.map((r) => ({ text: r.text, givenAtUs: r.atUs, understoodAs: r.constraints, notUnderstood: r.notUnderstood })),
    experts: Object.fromEntries(
      req.proposals.map((p) => [
        p.expert,
        {
          notes: p.notes,
          claims: p.claims.slice(0, 40).map((c) => ({ field: c.field, value: c.value, startUs: c.startUs, endUs: c.endUs, source: c.source, confidence: c.confidence, reason: c.reason })),
          gestures: p.gestures.slice(0, 40),
          avoid: p.avoid.slice(0, 40).map((a) => ({ what: a.what, startUs: a.startUs, endUs: a.endUs, source: a.source, reason: a.reason })),
        },
      ]),
    ),
    rulePlan: req.rulesShots,
  };
}

const completionSchema = z.object({ choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1) });

/** Validates the completion and normalises its shots to cover [ctx.startUs, ctx.endUs) in order, without gaps. */
export function parseAnswer(text: string, ctx: Pick<PlanContext, 'startUs' | 'endUs'>): { ok: true; shots: Shot[]; repaired: string[] } | { ok: false; detail: string } {
  let outer: unknown;
  try {
    outer = JSON.parse(text);
  } catch {
    return { ok: false, detail: 'the endpoint did not answer JSON' };
  }
  const completion = completionSchema.safeParse(outer);
  if (!completion.success) return { ok: false, detail: `not a chat completion: ${completion.error.issues[0]?.message ?? 'invalid'}` };
  const content = completion.data.choices[0]!.message.content ?? '';
  let inner: unknown;
  try {
    inner = JSON.parse(content.replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    return { ok: false, detail: `the model's message is not JSON: ${content.slice(0, 80)}` };
  }
  const answer = chatAnswerSchema.safeParse(inner);
  if (!answer.success) {
    const i = answer.error.issues[0];
    return { ok: false, detail: `the plan does not match the schema: ${i ? `${i.path.join('.')}: ${i.message}` : 'invalid'}` };
  }
  const repaired: string[] = [];
  const sorted = [...answer.data.shots].sort((a, b) => a.startUs - b.startUs).filter((s) => s.endUs > ctx.startUs && s.startUs < ctx.endUs);
  if (sorted.length === 0) return { ok: false, detail: 'no shot inside the window' };
  const shots: Shot[] = [];
  sorted.forEach((s, i) => {
    const startUs = i === 0 ? ctx.startUs : shots[i - 1]!.endUs;
    const endUs = i === sorted.length - 1 ? ctx.endUs : Math.max(startUs + 1, Math.min(ctx.endUs, sorted[i + 1]!.startUs));
    if (startUs !== s.startUs || endUs !== s.endUs) repaired.push(`shot ${i}: ${s.startUs}-${s.endUs} -> ${startUs}-${endUs}`);
    const gestures = s.gestures.filter((g) => g.atUs >= startUs && g.atUs < endUs);
    if (gestures.length !== s.gestures.length) repaired.push(`shot ${i}: ${s.gestures.length - gestures.length} gesture(s) outside the shot dropped`);
    shots.push({ ...s, startUs, endUs, gestures });
  });
  const valid = shots.filter((s) => shotSchema.safeParse(s).success);
  if (valid.length !== shots.length) return { ok: false, detail: 'the plan could not be made to cover the window' };
  return { ok: true, shots, repaired };
}
