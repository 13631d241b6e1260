// Linux /proc readings for the server's own figures (metrics, session details); null where /proc cannot tell.
import { readFileSync } from 'node:fs';
import { setPriority } from 'node:os';

const TICKS_PER_S = 100; // USER_HZ: 100 on every Linux architecture Node supports

/** CPU seconds (user + system) a process has used so far. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  } catch {
    return null;
  }
}

export interface MachineTimes {
  busy: number;
  total: number;
}

/** Machine-wide CPU jiffies from /proc/stat (busy = all but idle and iowait); null off Linux. */
export function machineTimes(): MachineTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** CPU seconds the calling thread has used so far (the first field of /proc/thread-self/schedstat, in ns). */
export function threadCpuSeconds(): number | null {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
  } catch {
    return null;
  }
}

/**
 * Scheduling priorities (nice values) of the server's threads and processes. The main thread runs every session's
 * pacer and the sockets: when the cores are saturated it must win them, so that a tick is never late; the bulk work
 * (render threads, encoders, enrollment) yields to it and absorbs the contention in its queues, where it shows as a
 * frame not ready in time (counted) rather than as every session's clock stalling. Far apart on purpose: at nice 5/3
 * a whole-turn arrival on 6 saturating sessions still left ticks 40-60 ms late; at 15/12 none over 40 ms and p99
 * 20 ms instead of 40 (bench/README.md, load-6-same-turn60*.json). The bulk work loses nothing to the main thread
 * but what that thread actually uses.
 */
export const NICE = { render: 15, encoder: 12, enrollment: 19 } as const;

/** Lowers the calling thread's priority (Linux: a thread is a schedulable task of its own); false where it cannot. */
export function lowerThisThread(nice: number): boolean {
  try {
    const tid = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ', 1)[0]);
    setPriority(tid, nice);
    return true;
  } catch {
    return false;
  }
}

/** Lowers a child process's priority; false where it cannot (it may have exited). */
export function lowerProcess(pid: number | undefined, nice: number): boolean {
  if (pid === undefined) return false;
  try {
    setPriority(pid, nice);
    return true;
  } catch {
    return false;
  }
}
