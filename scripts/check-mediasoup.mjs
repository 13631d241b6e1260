#!/usr/bin/env node
// Proves that the mediasoup worker (built by scripts/build-mediasoup-worker.sh) works:
// Worker -> Router (Opus + VP8) -> WebRtcTransport on 127.0.0.1, and a DirectTransport
// with a VP8 and an Opus producer consumed on a second DirectTransport, pushing a few
// fake RTP packets through. Prints "mediasoup ok <version>"; exits non-zero on failure.
//
// Usage: node scripts/check-mediasoup.mjs
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(repoRoot, 'package.json'));

const RTP_WAIT_MS = 2000;
const STEP_TIMEOUT_MS = 15000;

function log(msg) {
  console.log(`[check-mediasoup] ${msg}`);
}

function withTimeout(promise, what, ms = STEP_TIMEOUT_MS) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Minimal RTP packet: 12-byte header (V=2, no CSRC/extension) + payload.
function rtpPacket({ payloadType, seq, timestamp, ssrc, marker = false, payload }) {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  header.writeUInt16BE(seq & 0xffff, 2);
  header.writeUInt32BE(timestamp >>> 0, 4);
  header.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([header, payload]);
}

// VP8 payload descriptor (RFC 7741), as browsers send it; mediasoup 3.12 only parses
// descriptors with the X bit set: X=1 S=1 PID=0; I=1 L=1 T=1; 15-bit PictureID;
// TL0PICIDX; TID=0 Y=1.
function vp8Descriptor(pictureId) {
  return Buffer.from([0x90, 0xe0, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff, pictureId & 0xff, 0x20]);
}

// Start of a VP8 key frame: frame tag with P=0 (bit0), show_frame, start code
// 9d 01 2a, 640x480, then filler bytes.
function vp8KeyFramePayload(pictureId) {
  return Buffer.concat([
    vp8Descriptor(pictureId),
    Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]),
    Buffer.alloc(32, 0xaa),
  ]);
}

// VP8 inter (delta) frame: frame tag with P=1.
function vp8DeltaFramePayload(pictureId) {
  return Buffer.concat([vp8Descriptor(pictureId), Buffer.from([0x11, 0x02, 0x00]), Buffer.alloc(32, 0xbb)]);
}

// Opus: TOC byte (config 31 = CELT FB 20 ms, mono, 1 frame) + filler.
function opusPayload() {
  return Buffer.from([0xf8, ...Buffer.alloc(40, 0xcc)]);
}

async function main() {
  const mediasoupPkg = require('mediasoup/package.json');
  const mediasoup = require('mediasoup');
  log(`mediasoup ${mediasoup.version} (package ${mediasoupPkg.version}), worker binary: ${mediasoup.workerBin}`);
  if (!process.env.MEDIASOUP_WORKER_BIN && !fs.existsSync(mediasoup.workerBin)) {
    throw new Error(
      `worker binary not found at ${mediasoup.workerBin}; run scripts/build-mediasoup-worker.sh first`,
    );
  }

  const worker = await withTimeout(
    mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: 40000, rtcMaxPort: 49999 }),
    'createWorker',
  );
  let workerDied = null;
  worker.on('died', (err) => {
    workerDied = err;
  });
  log(`worker pid ${worker.pid}`);

  try {
    const usage = await worker.getResourceUsage();
    log(`worker resource usage ok (ru_maxrss ${usage.ru_maxrss} KiB)`);

    const router = await worker.createRouter({
      mediaCodecs: [
        { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
        { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: {} },
      ],
    });
    const codecNames = router.rtpCapabilities.codecs.map((c) => c.mimeType).join(', ');
    log(`router ${router.id} codecs: ${codecNames}`);

    const webRtcTransport = await router.createWebRtcTransport({
      listenIps: [{ ip: '127.0.0.1' }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
    });
    const cands = webRtcTransport.iceCandidates.map((c) => `${c.protocol}:${c.ip}:${c.port}`).join(' ');
    log(`webrtc transport ${webRtcTransport.id} ice candidates: ${cands}`);
    if (!webRtcTransport.iceCandidates.length) throw new Error('WebRtcTransport has no ICE candidates');
    if (!webRtcTransport.dtlsParameters.fingerprints.length) throw new Error('WebRtcTransport has no DTLS fingerprints');

    const sendTransport = await router.createDirectTransport();
    const recvTransport = await router.createDirectTransport();

    const vp8Producer = await sendTransport.produce({
      kind: 'video',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }],
        encodings: [{ ssrc: 1111 }],
      },
    });
    const opusProducer = await sendTransport.produce({
      kind: 'audio',
      rtpParameters: {
        codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: 2222 }],
      },
    });
    log(`producers: vp8 ${vp8Producer.id}, opus ${opusProducer.id}`);

    const vp8Consumer = await recvTransport.consume({
      producerId: vp8Producer.id,
      rtpCapabilities: router.rtpCapabilities,
    });
    const opusConsumer = await recvTransport.consume({
      producerId: opusProducer.id,
      rtpCapabilities: router.rtpCapabilities,
    });
    log(`consumers: vp8 ${vp8Consumer.id} (${vp8Consumer.type}), opus ${opusConsumer.id} (${opusConsumer.type})`);

    const received = { vp8: [], opus: [] };
    vp8Consumer.on('rtp', (buf) => received.vp8.push(buf));
    opusConsumer.on('rtp', (buf) => received.opus.push(buf));

    // Opus: 3 packets, 20 ms apart (960 samples at 48 kHz).
    // VP8: key frame, then 2 delta frames (3000 ticks at 90 kHz = 30 fps).
    for (let i = 0; i < 3; i++) {
      opusProducer.send(
        rtpPacket({ payloadType: 100, seq: 1000 + i, timestamp: 5000 + i * 960, ssrc: 2222, payload: opusPayload() }),
      );
      vp8Producer.send(
        rtpPacket({
          payloadType: 101,
          seq: 2000 + i,
          timestamp: 9000 + i * 3000,
          ssrc: 1111,
          marker: true,
          payload: i === 0 ? vp8KeyFramePayload(100 + i) : vp8DeltaFramePayload(100 + i),
        }),
      );
      await new Promise((r) => setTimeout(r, 20));
    }

    const deadline = Date.now() + RTP_WAIT_MS;
    while ((received.vp8.length < 3 || received.opus.length < 3) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }

    const describe = (bufs, name, consumer) => {
      if (!bufs.length) return `${name}: no RTP received`;
      const b = bufs[0];
      const pt = b[1] & 0x7f;
      const ssrc = b.readUInt32BE(8);
      const expectedSsrc = consumer.rtpParameters.encodings[0].ssrc;
      return `${name}: ${bufs.length} RTP packet(s) received (pt ${pt}, ssrc ${ssrc}, consumer ssrc ${expectedSsrc}, ${b.length} bytes)`;
    };
    log(describe(received.opus, 'opus', opusConsumer));
    log(describe(received.vp8, 'vp8', vp8Consumer));

    const [vp8ProdStats, opusProdStats] = await Promise.all([vp8Producer.getStats(), opusProducer.getStats()]);
    log(`producer stats: vp8 packetCount=${vp8ProdStats[0]?.packetCount ?? 0}, opus packetCount=${opusProdStats[0]?.packetCount ?? 0}`);

    if (workerDied) throw new Error(`worker died: ${workerDied.message}`);
    if (!received.opus.length) throw new Error('Opus consumer emitted no RTP');
    if (!received.vp8.length) log('note: VP8 consumer emitted no RTP (it waits for a key frame); not a failure');

    for (const c of [vp8Consumer, opusConsumer]) {
      const rtp = received[c === vp8Consumer ? 'vp8' : 'opus'][0];
      if (rtp && rtp.readUInt32BE(8) !== c.rtpParameters.encodings[0].ssrc) {
        throw new Error(`consumer ${c.id} sent RTP with unexpected SSRC`);
      }
    }

    router.close();
  } finally {
    worker.close();
  }
  if (workerDied) throw new Error(`worker died: ${workerDied.message}`);
  if (!worker.closed) throw new Error('worker did not close');
  log('worker closed');
  console.log(`mediasoup ok ${mediasoup.version}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`[check-mediasoup] FAILED: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
