// Processes from /proc, and the CPU seconds (user + system) of a process and all its descendants.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

export interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  cpuS: number;
}

/** Every process now: pid, parent, name and CPU seconds so far. */
export function processes(): Stat[] {
  const out: Stat[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const comm = s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' ');
      out.push({ pid: Number(p), ppid: Number(f[1]), comm, cpuS: (Number(f[11]) + Number(f[12])) / TICKS });
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU seconds of pid's tree, by process name. */
export function treeCpu(root: number): Record<string, number> {
  const all = processes();
  const kids = new Map<number, Stat[]>();
  for (const s of all) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), s]);
  const byName: Record<string, number> = {};
  const walk = (pid: number) => {
    const me = all.find((s) => s.pid === pid);
    if (me) byName[me.comm] = (byName[me.comm] ?? 0) + me.cpuS;
    for (const k of kids.get(pid) ?? []) walk(k.pid);
  };
  walk(root);
  return byName;
}

export function diff(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = (b[k] ?? 0) - (a[k] ?? 0);
  return out;
}

export const total = (x: Record<string, number>) => Object.values(x).reduce((s, v) => s + v, 0);

/** CPU seconds of each thread of one process, by thread name (threads of the same name added up; the main thread as "main"). */
export function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const name = Number(tid) === pid ? 'main' : s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' ');
      out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / TICKS;
    } catch {
      // gone
    }
  }
  return out;
}
