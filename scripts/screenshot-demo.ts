// Screenshots of the demo page, publisher and viewer, while the fake microphone speaks.
// Usage: node --import tsx scripts/screenshot-demo.ts [outDir]   (default bench/results)
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { launchBrowser } from '../test/support/browser.ts';
import { makeSpeechFixture } from '../test/support/audio-fixtures.ts';
import { waitLive } from '../test/support/page-api.ts';
import { startServerProcess } from '../test/support/server-process.ts';

const outDir = resolve(process.argv[2] ?? 'bench/results');
const fixture = makeSpeechFixture(join(tmpdir(), 'facecast-fixtures'), { leadS: 1, gapS: 1, tailS: 1 });
const server = await startServerProcess();
const [pub, view] = await Promise.all([launchBrowser({ micWav: fixture.wav48 }), launchBrowser()]);
try {
  const page = await pub.context.newPage();
  await page.goto(`${server.base}/?key=${encodeURIComponent(server.key)}`);
  await page.evaluate(() => window.facecast.start());
  await waitLive(page);
  const viewer = await view.context.newPage();
  await viewer.goto((await page.evaluate(() => window.facecast.viewerUrl))!);
  await waitLive(viewer);
  // Into the first sentence, with the overlay filled in.
  await page.waitForTimeout(2_600);
  await Promise.all([page.screenshot({ path: join(outDir, 'demo-publisher.png') }), viewer.screenshot({ path: join(outDir, 'demo-viewer.png') })]);
  console.log(`wrote ${join(outDir, 'demo-publisher.png')} and demo-viewer.png`);
} finally {
  await Promise.all([pub.close(), view.close()]);
  await server.stop();
}
