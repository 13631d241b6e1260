// Used by scripts/fresh-root-check.sh inside the fresh root: waits (up to argv[3] seconds, default 300) for the demo
// URL in the server's output (the file named by argv[2]), then asks /api/health and the demo page. Exit 0 when
// health says ok and the page is 200.
import { readFileSync } from 'node:fs';

const waitS = Number(process.argv[3] ?? 300);
const deadline = Date.now() + waitS * 1000;
for (;;) {
  let log = '';
  try {
    log = readFileSync(process.argv[2], 'utf8');
  } catch {
    // not written yet
  }
  const match = /demo page:\s+(http:\/\/\S+)/.exec(log);
  if (match) {
    const demo = new URL(match[1]);
    const health = await fetch(new URL('/api/health', demo));
    const body = await health.json();
    const page = await fetch(demo);
    console.log(`demo page ${demo.origin}${demo.pathname}: ${page.status}; /api/health: ${health.status} ${JSON.stringify(body).slice(0, 160)}`);
    process.exit(health.status === 200 && body.ok === true && page.status === 200 ? 0 : 1);
  }
  if (Date.now() > deadline) {
    console.log(`no demo URL within ${waitS} s`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
