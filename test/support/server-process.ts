// Runs `facecast serve` as its own process on 127.0.0.1, as a user would, so that a benchmark's or a timing
// test's own work (parsing what the browser captured) never stalls the server's event loop and its pacer.
import { spawn, type ChildProcess } from 'node:child_process';
import { processes } from './proc-cpu.ts';

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  key: string;
  stop(): Promise<void>;
}

/** ffmpeg processes the server runs (its children: one VP8 encoder per session, whatever the viewers). */
export function ffmpegChildrenOf(pid: number): number {
  return processes().filter((p) => p.comm === 'ffmpeg' && p.ppid === pid).length;
}

export async function startServerProcess(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server only (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, 'bin/facecast.js', 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FACECAST_LOG_LEVEL: 'warn', FACECAST_RTC_LISTEN_IP: '127.0.0.1', ...env },
  });
  const demo = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /demo page:\s+(\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before it was ready:\n${out}`)));
  });
  const url = new URL(demo);
  return {
    child,
    base: url.origin,
    key: url.searchParams.get('key')!,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
