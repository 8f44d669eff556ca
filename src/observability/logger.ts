import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout; secrets are redacted wherever they appear. */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'ferry', ...bindings },
    redact: {
      paths: [
        'password',
        '*.password',
        '*.*.password',
        'sasl',
        '*.sasl',
        'secretAccessKey',
        '*.secretAccessKey',
        'credentials',
      ],
      censor: '[redacted]',
    },
  });
}
