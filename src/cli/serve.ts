// `facecast serve`: start the server with the built-in avatar and print the demo URL.
import { access } from 'node:fs/promises';
import { loadConfig, type ServerConfigInput } from '../server/config.ts';
import { FacecastServer } from '../server/app.ts';
import { WorkerPool } from '../rtc/worker-pool.ts';
import { SessionManager } from '../session/manager.ts';
import { AvatarRegistry } from '../session/avatars.ts';
import { WorkerEnroller } from '../session/enroll-worker.ts';
import { moduleLogger } from '../log.ts';
import { loadVisemeDictionary } from './dictionary.ts';
import { warmResamplers } from '../audio/resampler.ts';
import { Capacity } from '../session/capacity.ts';
import { defaultPack } from '../packs/default/index.ts';

const log = moduleLogger('cli/serve');

export interface RunningServer {
  server: FacecastServer;
  /** Things that work in a degraded way (a missing optional package), for the user to see at start. */
  warnings: readonly string[];
  close(): Promise<void>;
}

/** Starts everything; used by the CLI, the tests and the benchmarks. */
export async function startFacecast(overrides: Partial<ServerConfigInput> = {}, progress: (line: string) => void = () => undefined): Promise<RunningServer> {
  const config = loadConfig(overrides);
  // Read in slices alongside the rest of the start; sessions' TTS text finds it ready (never rejects).
  const dictionary = loadVisemeDictionary();
  progress('starting mediasoup workers');
  const pool = await WorkerPool.create({ workers: config.workers, rtcMinPort: config.rtcMinPort, rtcMaxPort: config.rtcMaxPort, logLevel: 'warn' });
  const registry = new AvatarRegistry(config.avatarCacheDir, new WorkerEnroller(config.avatarCacheDir));
  try {
    progress(`enrolling the built-in avatar (${config.defaultAvatar})`);
    try {
      await access(config.defaultAvatar);
    } catch {
      throw new Error(`built-in avatar portrait not found at ${config.defaultAvatar}: run scripts/install.sh (it extracts it from Debian's python3-imageio)`);
    }
    await registry.addBuiltIn('astronaut', config.defaultAvatar, 'Astronaut (built-in)');
    const sessions = new SessionManager(
      pool,
      {
        outputDelayUs: config.outputDelayMs * 1000,
        rightContextUs: config.rightContextMs * 1000,
        liveJitterUs: 40_000,
        videoKbps: config.videoKbps,
        keyframeIntervalFrames: config.keyframeIntervalFrames,
        videoPlayoutDelayMaxMs: config.videoPlayoutDelayMaxMs < 0 ? null : config.videoPlayoutDelayMaxMs,
        listenIp: config.rtcListenIp,
        announcedIp: config.rtcAnnouncedIp,
        maxTransports: config.maxTransportsPerSession,
        maxQueuedAudioS: 120,
        degrade: config.degrade === 'auto',
        director: {
          chat: config.directorChatUrl ? { baseUrl: config.directorChatUrl, model: config.directorChatModel, apiKey: config.directorChatKey, timeoutMs: config.directorChatTimeoutMs } : undefined,
          asr: config.asr === 'off' ? undefined : config.asr === 'openai' ? { kind: 'openai', baseUrl: config.asrUrl!, model: config.asrModel, apiKey: config.asrKey } : { kind: 'pocketsphinx' },
        },
      },
      registry,
      defaultPack,
      {
        maxSessions: config.maxSessions,
        maxLoadedAvatars: config.maxLoadedAvatars,
        capacity: new Capacity({ stated: config.capacity, headroom: config.capacityHeadroom }),
        headRate: config.headRate,
      },
    );
    progress('building the render graph');
    await sessions.preload('astronaut', { pin: true });
    if (config.capacity === 'auto') {
      progress('measuring render speed (capacity)');
      await sessions.probeRender('astronaut');
    }
    // A TTS socket's first resampler would otherwise cost every session's pacer ~20 ms mid-stream.
    await warmResamplers();
    // Already in the log (audio/visemes/cmudict); the CLI also prints it under the demo URL.
    const warnings = [await dictionary].filter((w): w is string => w !== null);
    const server = new FacecastServer(config, sessions, pool, registry);
    try {
      await server.listen();
    } catch (err) {
      await sessions.close();
      throw err;
    }
    let closed = false;
    return {
      server,
      warnings,
      async close() {
        if (closed) return;
        closed = true;
        await server.close();
        await registry.close();
        pool.close();
      },
    };
  } catch (err) {
    await registry.close();
    pool.close();
    throw err;
  }
}

export async function serve(opts: Partial<ServerConfigInput>): Promise<void> {
  const t0 = Date.now();
  const running = await startFacecast(opts, (line) => process.stdout.write(`[facecast] ${line}...\n`));
  const { server } = running;
  const demo = `${server.baseUrl}/?key=${encodeURIComponent(server.config.apiKey)}`;
  process.stdout.write(
    `\n[facecast] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s\n` +
      `  demo page:  ${demo}\n` +
      `  API key:    ${server.config.apiKey}${server.config.devKey ? '  (dev key, new at every start; set FACECAST_API_KEY to fix one)' : ''}\n` +
      `  health:     ${server.baseUrl}/api/health\n` +
      running.warnings.map((w) => `  warning:    ${w}\n`).join('') +
      '\n',
  );
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
