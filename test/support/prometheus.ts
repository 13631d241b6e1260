// The Prometheus text exposition format, parsed strictly enough to catch a malformed line; and histogram figures
// between two scrapes. Used by the /metrics test and the load bench.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  help: Set<string>;
  type: Map<string, string>;
}

export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const help = new Set<string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (m) {
      help.add(m[1]!);
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      type.set(m[1]!, m[2]!);
      continue;
    }
    // NaN and Inf in any case, as Prometheus reads them (Go's ParseFloat): prom-client writes an empty event-loop
    // lag histogram's mean as "Nan".
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.eE+-]+|nan|[+-]?inf)$/i.exec(line);
    if (!m) throw new Error(`not a metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    const raw = m[3]!;
    const value = /^nan$/i.test(raw) ? NaN : /^[+-]?inf$/i.test(raw) ? (raw.startsWith('-') ? -Infinity : Infinity) : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, help, type };
}

/** A sample's value (the first whose labels include `labels`), or undefined. */
export function sampleValue(s: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return s.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
}

/** A histogram's observations between two scrapes: count, mean and the bucket bound under which q of them fell. */
export function histogramBetween(a: readonly Sample[], b: readonly Sample[], name: string, labels: Record<string, string> = {}) {
  const diff = (n: string, extra: Record<string, string> = {}) => (sampleValue(b, n, { ...labels, ...extra }) ?? 0) - (sampleValue(a, n, { ...labels, ...extra }) ?? 0);
  const count = diff(`${name}_count`);
  const sum = diff(`${name}_sum`);
  const bounds = b.filter((x) => x.name === `${name}_bucket` && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).map((x) => x.labels.le!);
  const buckets = bounds.map((le) => ({ le: le === '+Inf' ? Infinity : Number(le), n: diff(`${name}_bucket`, { le }) }));
  const atMost = (q: number) => buckets.find((x) => x.n >= q * count)?.le ?? Infinity;
  return { count, meanMs: count ? (1000 * sum) / count : 0, p50AtMostMs: 1000 * atMost(0.5), p99AtMostMs: 1000 * atMost(0.99), totalS: sum };
}
