import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher, type Response, fetch } from 'undici';
import { envName } from '../../config/config';
import { ConfigError, FerryError } from '../../core/errors';
import { certificateProblem } from '../../core/tls-errors';

const REGISTRY_TIMEOUT_MS = 10_000;

export interface RegistrySettings {
  url: string;
  username?: string;
  password?: string;
  /** PEM file of the CA that signed the registry's certificate. */
  ca?: string;
}

/**
 * GETs from a Confluent-compatible registry, with basic auth and a CA of its own when configured.
 * A refused login or an untrusted certificate is systemic (every message would fail alike until
 * an operator fixes the setting it names); an outage is retriable; neither names a secret.
 */
export class RegistryHttp {
  private readonly headers: Record<string, string> = { accept: 'application/json' };
  private readonly dispatcher?: Dispatcher;

  constructor(readonly settings: RegistrySettings) {
    const { username, password, ca } = settings;
    if (Boolean(username) !== Boolean(password))
      throw new ConfigError(
        `${envName('schemaRegistry.username')} and ${envName('schemaRegistry.password')} go together`,
      );
    if (username) this.headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if (ca) {
      let pem: string;
      try {
        pem = readFileSync(ca, 'utf8');
      } catch (err) {
        throw new ConfigError(
          `${envName('schemaRegistry.ca')}: cannot read ${ca} (${(err as NodeJS.ErrnoException).code ?? err})`,
        );
      }
      this.dispatcher = new Agent({ connect: { ca: pem } });
    }
  }

  get url(): string {
    return this.settings.url;
  }

  /** GET <url><path>; throws unavailable (retriable) for outages and 5xx. */
  async get(path: string): Promise<Response> {
    const url = `${this.settings.url}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: this.headers,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(REGISTRY_TIMEOUT_MS),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code;
      const certificate = certificateProblem(code);
      if (certificate)
        throw new FerryError(
          certificate === 'untrusted'
            ? `the schema registry's TLS certificate at ${url} is not signed by a CA ferry trusts (${code}): set ${envName('schemaRegistry.ca')} to the file of the CA that signed it`
            : `the schema registry's TLS certificate is not valid for ${url} (${code}): fix the registry's certificate or ${envName('schemaRegistry.url')}`,
          { systemic: true, cause: err },
        );
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw Object.assign(new Error(`cannot reach ${url}: ${cause}`), { registryUnavailable: true });
    }
    if (res.status === 401 || res.status === 403)
      throw new FerryError(
        `the schema registry at ${url} refused ferry (HTTP ${res.status}): check ${envName('schemaRegistry.username')} and ${envName('schemaRegistry.password')}`,
        { systemic: true },
      );
    return res;
  }
}
