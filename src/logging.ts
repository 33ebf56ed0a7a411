// The one place loggers are made: pino JSON for machines or pino-pretty for humans, with
// redaction of anything that could carry the API token configured once, declaratively. Every
// other module receives a (child) logger; none creates its own.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export interface LoggerOptions {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  format: 'json' | 'pretty';
  /** Where lines go. @default stdout */
  destination?: NodeJS.WritableStream;
  /** Base fields of every line. @default { name: 'vps-operator' } */
  base?: Record<string, unknown>;
}

/** Paths whose values are replaced by "[redacted]" wherever they appear in a log line. */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
  'headers.Authorization',
  '*.headers.Authorization',
];

export function createLogger(options: LoggerOptions): Logger {
  const opts = {
    level: options.level,
    base: options.base ?? { name: 'vps-operator' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.format === 'pretty') {
    const out = options.destination ?? process.stdout;
    return pino(
      opts,
      pretty({ colorize: 'isTTY' in out && out.isTTY === true, destination: out, sync: true }),
    );
  }
  return options.destination === undefined ? pino(opts) : pino(opts, options.destination);
}
