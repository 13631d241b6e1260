// Small helpers the experts share.
import type { PlanContext, Span } from './types.ts';
import type { InstructionRecord } from '../instructions.ts';

export function clip(span: Span, ctx: Pick<PlanContext, 'startUs' | 'endUs'>): Span | null {
  const startUs = Math.max(span.startUs, ctx.startUs);
  const endUs = Math.min(span.endUs, ctx.endUs);
  return endUs > startUs ? { startUs, endUs } : null;
}

export function overlap(a: Span, b: Span): number {
  return Math.max(0, Math.min(a.endUs, b.endUs) - Math.max(a.startUs, b.startUs));
}

export function seconds(us: number): string {
  return `${(us / 1e6).toFixed(2)} s`;
}

export function spanWords(s: Span): string {
  return `${(s.startUs / 1e6).toFixed(2)}-${(s.endUs / 1e6).toFixed(2)} s`;
}

export function quote(text: string, max = 60): string {
  const t = text.length > max ? `${text.slice(0, max - 3)}...` : text;
  return `'${t}'`;
}

/**
 * The window cut where instructions took effect: [{span, at}] where `at` is the media time whose active
 * constraints hold over the span.
 */
export function instructionSpans(ctx: PlanContext): { span: Span; at: number }[] {
  const edges = [ctx.startUs, ...ctx.instructions.map((r: InstructionRecord) => r.atUs).filter((t) => t > ctx.startUs && t < ctx.endUs), ctx.endUs];
  const sorted = [...new Set(edges)].sort((a, b) => a - b);
  const out: { span: Span; at: number }[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) out.push({ span: { startUs: sorted[i]!, endUs: sorted[i + 1]! }, at: sorted[i]! });
  return out;
}
