// Server configuration: defaults, then FACECAST_* environment variables, then CLI flags.
// Validated once at the boundary and frozen.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';

export const configSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** Bearer key for the HTTP API; a random dev key is made and printed when unset. */
    apiKey: z.string().min(16).optional(),
    /** HMAC secret for session tokens; random per process when unset. */
    tokenSecret: z.string().min(16).optional(),
    tokenTtlS: z.coerce.number().int().min(60).default(24 * 3600),
    /** IP the WebRTC transports listen on. */
    rtcListenIp: z.string().default('127.0.0.1'),
    rtcAnnouncedIp: z.string().optional(),
    rtcMinPort: z.coerce.number().int().min(1024).max(65_535).default(40_000),
    rtcMaxPort: z.coerce.number().int().min(1024).max(65_535).default(40_999),
    /** mediasoup worker processes; sessions and viewers are spread over them. Default: one per core. */
    workers: z.coerce.number().int().min(1).max(64).default(() => availableParallelism()),
    /** Output delay: audio in -> audio and video out. Covers right context + render + encode. */
    outputDelayMs: z.coerce.number().int().min(60).max(2_000).default(100),
    /** Mouth right context (look-ahead) in live mode. */
    rightContextMs: z.coerce.number().int().min(0).max(200).default(40),
    videoKbps: z.coerce.number().int().min(100).max(8_000).default(800),
    keyframeIntervalFrames: z.coerce.number().int().min(5).max(250).default(25),
    /**
     * Most smoothing delay viewers' browsers may add to the video, ms (RTP playout-delay, 10 ms steps, min 0). A low
     * limit puts Chromium in its low-latency rendering (the mouth shows ~20 ms sooner than with its own smoothing);
     * 100 leaves it room to hold the video to the audio (A/V sync); 0 shows each frame once decoded; -1 sends none.
     */
    videoPlayoutDelayMaxMs: z.coerce.number().int().min(-1).max(40_950).default(100),
    maxSessions: z.coerce.number().int().min(1).max(1_000).default(8),
    /**
     * Most WebRTC transports (viewers, the publisher) one session may hold at once. Each takes a port of the RTC
     * range, which all sessions share. Default: the range divided among maxSessions (125 with the defaults), so one
     * session's clients can never take every session's ports.
     */
    maxTransportsPerSession: z.coerce.number().int().min(2).max(65_535).optional(),
    /**
     * Sessions this server serves in real time: 'auto' measures it (a render probe at start, then the CPU each
     * session really uses, against the cores x capacityHeadroom) and refuses more with 503 at-capacity; a number
     * states it. maxSessions stays the hard limit either way.
     */
    capacity: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(1_000)]).default('auto'),
    /** Share of the machine's cores that sessions may use when the capacity is measured. */
    capacityHeadroom: z.coerce.number().min(0.5).max(1).default(0.7),
    /**
     * How often the head and torso layers are rendered: 'full' every frame; 'half' every other frame (the mouth and
     * eyes still every frame), about 0.6 of the render cost, for more sessions a machine.
     */
    headRate: z.enum(['full', 'half']).default('full'),
    /** Whether a session whose frames are late steps down its pack's degradation ladder (and back up): 'auto' or 'off'. */
    degrade: z.enum(['auto', 'off']).default('auto'),
    /** Portrait of the built-in avatar. */
    defaultAvatar: z.string().default('models/build/astronaut.png'),
    avatarCacheDir: z.string().default('var/avatars'),
    /** Largest portrait upload (POST /api/avatars, facecast enroll), bytes. */
    maxUploadBytes: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(20 * 1024 * 1024),
    /** Longest side of a portrait, pixels; checked from the image header before anything is decoded. */
    maxImageSide: z.coerce.number().int().min(64).max(32_767).default(8000),
    /** Enrollment jobs queued or running at once (they run one at a time); more answer 503. */
    maxEnrollJobs: z.coerce.number().int().min(1).max(1_000).default(8),
    /** How long a finished enrollment job's answer stays readable, seconds. */
    enrollJobTtlS: z.coerce.number().int().min(10).max(7 * 24 * 3600).default(600),
    /** Avatars whose renderer stays loaded (least recently used beyond this are released when unused). */
    maxLoadedAvatars: z.coerce.number().int().min(1).max(256).default(4),
    /** The director's OpenAI-compatible chat endpoint (base URL, e.g. http://127.0.0.1:8000/v1); rules only when unset. */
    directorChatUrl: z.string().url().optional(),
    directorChatModel: z.string().min(1).default('gpt-4o-mini'),
    directorChatKey: z.string().optional(),
    directorChatTimeoutMs: z.coerce.number().int().min(100).max(120_000).default(3_000),
    /** Live-mode speech recognition for microphone sessions. */
    asr: z.enum(['pocketsphinx', 'openai', 'off']).default('pocketsphinx'),
    asrUrl: z.string().url().optional(),
    asrModel: z.string().min(1).default('whisper-1'),
    asrKey: z.string().optional(),
  })
  .strict()
  .refine((c) => c.rtcMaxPort > c.rtcMinPort, { message: 'rtcMaxPort must be above rtcMinPort' })
  .refine((c) => c.asr !== 'openai' || c.asrUrl !== undefined, { message: 'asr=openai needs asrUrl (FACECAST_ASR_URL)' });

export type ServerConfigInput = z.input<typeof configSchema>;
export type ServerConfig = Readonly<z.output<typeof configSchema> & { apiKey: string; tokenSecret: string; devKey: boolean; maxTransportsPerSession: number }>;

const ENV: Record<string, keyof ServerConfigInput> = {
  FACECAST_HOST: 'host',
  FACECAST_PORT: 'port',
  FACECAST_API_KEY: 'apiKey',
  FACECAST_TOKEN_SECRET: 'tokenSecret',
  FACECAST_RTC_LISTEN_IP: 'rtcListenIp',
  FACECAST_RTC_ANNOUNCED_IP: 'rtcAnnouncedIp',
  FACECAST_RTC_MIN_PORT: 'rtcMinPort',
  FACECAST_RTC_MAX_PORT: 'rtcMaxPort',
  FACECAST_WORKERS: 'workers',
  FACECAST_OUTPUT_DELAY_MS: 'outputDelayMs',
  FACECAST_RIGHT_CONTEXT_MS: 'rightContextMs',
  FACECAST_VIDEO_KBPS: 'videoKbps',
  FACECAST_VIDEO_PLAYOUT_DELAY_MAX_MS: 'videoPlayoutDelayMaxMs',
  FACECAST_MAX_SESSIONS: 'maxSessions',
  FACECAST_MAX_TRANSPORTS_PER_SESSION: 'maxTransportsPerSession',
  FACECAST_CAPACITY: 'capacity',
  FACECAST_CAPACITY_HEADROOM: 'capacityHeadroom',
  FACECAST_HEAD_RATE: 'headRate',
  FACECAST_DEGRADE: 'degrade',
  FACECAST_AVATAR: 'defaultAvatar',
  FACECAST_AVATAR_CACHE: 'avatarCacheDir',
  FACECAST_MAX_UPLOAD_BYTES: 'maxUploadBytes',
  FACECAST_MAX_IMAGE_SIDE: 'maxImageSide',
  FACECAST_MAX_ENROLL_JOBS: 'maxEnrollJobs',
  FACECAST_ENROLL_JOB_TTL_S: 'enrollJobTtlS',
  FACECAST_MAX_LOADED_AVATARS: 'maxLoadedAvatars',
  FACECAST_DIRECTOR_CHAT_URL: 'directorChatUrl',
  FACECAST_DIRECTOR_CHAT_MODEL: 'directorChatModel',
  FACECAST_DIRECTOR_CHAT_KEY: 'directorChatKey',
  FACECAST_DIRECTOR_CHAT_TIMEOUT_MS: 'directorChatTimeoutMs',
  FACECAST_ASR: 'asr',
  FACECAST_ASR_URL: 'asrUrl',
  FACECAST_ASR_MODEL: 'asrModel',
  FACECAST_ASR_KEY: 'asrKey',
};

export function loadConfig(overrides: Partial<ServerConfigInput> = {}, env = process.env): ServerConfig {
  const fromEnv: Record<string, string> = {};
  for (const [name, key] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') fromEnv[key] = v;
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = configSchema.safeParse({ ...fromEnv, ...defined });
  if (!parsed.success) {
    throw new Error(`invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const devKey = parsed.data.apiKey === undefined;
  const ports = parsed.data.rtcMaxPort - parsed.data.rtcMinPort + 1;
  return Object.freeze({
    ...parsed.data,
    maxTransportsPerSession: parsed.data.maxTransportsPerSession ?? Math.max(2, Math.floor(ports / parsed.data.maxSessions)),
    apiKey: parsed.data.apiKey ?? `dev-${randomBytes(12).toString('hex')}`,
    tokenSecret: parsed.data.tokenSecret ?? randomBytes(32).toString('hex'),
    devKey,
  });
}
