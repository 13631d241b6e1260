// One pino root logger; every file takes a child named after its module (house rule 12).
import pino from 'pino';

const root = pino({
  level: process.env.FACECAST_LOG_LEVEL ?? (process.env.VITEST ? 'warn' : 'info'),
  base: undefined,
});

export type Logger = pino.Logger;

export function moduleLogger(name: string): Logger {
  return root.child({ mod: name });
}
