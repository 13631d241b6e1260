// What uploads cost the server's memory: N concurrent uploads of a large picture (POST /api/avatars, no face in it:
// each is read, checked, decoded and searched for a face in the enrollment worker, then refused), then one picture
// of 8000 x 8000 pixels. The server's RSS (its own process, as `ps` shows it) before, at its peak, when the jobs are
// done, and after the enrollment worker's idle stop (60 s). Answers by status.
// Usage: node --import tsx bench/upload-memory.ts [--uploads 20] [--out bench/results/upload-memory.json]
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { startServerProcess } from '../test/support/server-process.ts';
import { machine } from './machine.ts';

const { values } = parseArgs({ options: { uploads: { type: 'string', default: '20' }, out: { type: 'string', default: 'bench/results/upload-memory.json' } } });
const uploads = Number(values.uploads);
if (!(uploads >= 1 && uploads <= 100)) throw new Error('--uploads must be 1..100');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) => Math.round(Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);

// Noise does not compress: a 2500 x 2500 PNG of it is ~18.8 MB, the upload.
const noise = randomBytes(2500 * 2500 * 3);
const big = await sharp(noise, { raw: { width: 2500, height: 2500, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer();
const huge = await sharp({ create: { width: 8000, height: 8000, channels: 3, background: '#7a6a5a' } }).png().toBuffer();

const server = await startServerProcess();
const pid = server.child.pid!;

function upload(body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server.base}/api/avatars?wait=1`, { method: 'POST', headers: { authorization: `Bearer ${server.key}`, 'content-type': 'image/png', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

async function phase(bodies: Buffer[]): Promise<{ statuses: Record<string, number>; peakMb: number; doneMb: number; ms: number }> {
  let peakMb = rssMb(pid);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakMb = Math.max(peakMb, rssMb(pid));
      await sleep(100);
    }
  })();
  const t0 = Date.now();
  const answers = await Promise.all(bodies.map(upload));
  sampling = false;
  await sampler;
  const statuses: Record<string, number> = {};
  for (const a of answers) statuses[a] = (statuses[a] ?? 0) + 1;
  return { statuses, peakMb, doneMb: rssMb(pid), ms: Date.now() - t0 };
}

await sleep(3000);
const idleMb = rssMb(pid);
const concurrent = await phase(Array.from({ length: uploads }, () => big));
await sleep(70_000);
const afterIdleStopMb = rssMb(pid);
const large = await phase([huge]);
await sleep(70_000);
const afterLargeMb = rssMb(pid);
await server.stop();

const result = {
  command: `node --import tsx bench/upload-memory.ts --uploads ${uploads}`,
  machine: machine(),
  date: new Date().toISOString(),
  uploadMb: Number((big.length / 2 ** 20).toFixed(1)),
  idleMb,
  concurrent: { uploads, ...concurrent, afterIdleStopMb },
  picture8000: { bytesMb: Number((huge.length / 2 ** 20).toFixed(1)), ...large, afterIdleStopMb: afterLargeMb },
};
writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
