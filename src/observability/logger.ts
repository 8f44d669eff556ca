import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout; secrets are redacted wherever they appear. */
export function createLogger(level: string, fd: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'ferry' },
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
          'token',
          '*.token',
          '*.*.token',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd, sync: true }),
  );
}
