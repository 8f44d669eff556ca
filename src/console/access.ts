import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../core/errors';

/** Who may use the console: nobody but loopback callers, or holders of a token or of basic credentials. */
export interface AccessRules {
  token?: string;
  basic?: { user: string; password: string };
  readOnly: boolean;
}

/** What a request carries that proves who sends it. */
export interface Credentials {
  authorization?: string;
  /** The session cookie `?token=` set. */
  cookie?: string;
  /** `?token=` in the URL, accepted once: it sets the cookie and redirects. */
  queryToken?: string;
  /** The Host header. */
  host?: string;
}

/** The name in a Host header, without port or IPv6 brackets. */
function hostName(host: string | undefined): string | undefined {
  if (!host) return undefined;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) return bracketed[1];
  return host.replace(/:\d+$/, '').toLowerCase();
}

export type AccessDecision =
  { ok: true; who: string; setCookie?: string } | { ok: false; status: 401; challenge?: string; reason: string };

export const SESSION_COOKIE = 'ferry_console';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127(\.\d{1,3}){3}$/.test(host);

/**
 * The rules for an address: anything but loopback needs a token or basic credentials, so a
 * console reachable by others never acts unauthenticated. Set credentials apply on loopback too.
 */
export function accessRules(
  host: string,
  env: { token?: string; user?: string; password?: string },
  readOnly: boolean,
): AccessRules {
  if ((env.user === undefined) !== (env.password === undefined))
    throw new ConfigError('FERRY_CONSOLE_USER and FERRY_CONSOLE_PASSWORD go together: set both, or neither');
  const rules: AccessRules = {
    readOnly,
    ...(env.token ? { token: env.token } : {}),
    ...(env.user && env.password ? { basic: { user: env.user, password: env.password } } : {}),
  };
  if (!isLoopback(host) && !rules.token && !rules.basic)
    throw new ConfigError(
      `--host ${host} is not loopback: set FERRY_CONSOLE_TOKEN, or FERRY_CONSOLE_USER and FERRY_CONSOLE_PASSWORD, so that the console asks who is calling`,
    );
  return rules;
}

/** Equal texts, compared in a time that does not depend on where they differ (digests have one length). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The cookie's value: derived from the token, so it changes with the token and does not reveal it. */
export const sessionValue = (token: string) =>
  createHmac('sha256', token).update('ferry console session').digest('base64url');

/** Decides whether a request may see the console, and as whom. */
export function authenticate(rules: AccessRules, creds: Credentials): AccessDecision {
  if (!rules.token && !rules.basic) {
    // Without credentials only a loopback name may be asked for: a page whose DNS name was made to
    // point at 127.0.0.1 (DNS rebinding) would otherwise read the console and act as its own origin.
    const name = hostName(creds.host);
    if (name === undefined || !isLoopback(name))
      return {
        ok: false,
        status: 401,
        reason: `Host ${creds.host ?? '(none)'} is not a loopback name: open the console at 127.0.0.1 or localhost`,
      };
    return { ok: true, who: 'loopback' };
  }
  const auth = creds.authorization ?? '';
  if (rules.token) {
    const bearer = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
    if (bearer !== undefined && sameSecret(bearer, rules.token)) return { ok: true, who: 'token' };
    if (creds.cookie !== undefined && sameSecret(creds.cookie, sessionValue(rules.token)))
      return { ok: true, who: 'token' };
    if (creds.queryToken !== undefined && sameSecret(creds.queryToken, rules.token))
      return { ok: true, who: 'token', setCookie: sessionValue(rules.token) };
  }
  if (rules.basic) {
    const encoded = /^Basic\s+(.+)$/i.exec(auth)?.[1];
    const [user, ...rest] = Buffer.from(encoded ?? '', 'base64')
      .toString('utf8')
      .split(':');
    // Both compared whatever the first gives: the time says nothing about which was wrong.
    const userOk = sameSecret(user ?? '', rules.basic.user);
    const passwordOk = sameSecret(rest.join(':'), rules.basic.password);
    if (encoded !== undefined && userOk && passwordOk) return { ok: true, who: rules.basic.user };
  }
  return {
    ok: false,
    status: 401,
    reason: auth || creds.cookie || creds.queryToken ? 'wrong credentials' : 'credentials required',
    ...(rules.basic ? { challenge: 'Basic realm="ferry console", charset="UTF-8"' } : {}),
  };
}

/** The form token for a user: an HMAC under a secret that lives as long as the process. */
export const formToken = (secret: Buffer, who: string) =>
  createHmac('sha256', secret).update(`ferry console action\u0000${who}`).digest('base64url');

export interface ActionRequest {
  who: string;
  /** The form's token field. */
  token?: string;
  /** Origin header, or the origin of Referer when there is no Origin. */
  origin?: string;
  /** Host header. */
  host?: string;
  /** Sec-Fetch-Site, which browsers send with every request. */
  fetchSite?: string;
}

export type ActionDecision = { ok: true } | { ok: false; status: 403; reason: string };

/**
 * An action is refused in read-only mode, from another site (Origin or Sec-Fetch-Site), and
 * without the form token of the user sending it: another page cannot make a browser act.
 */
export function checkAction(rules: AccessRules, secret: Buffer, req: ActionRequest): ActionDecision {
  if (rules.readOnly) return { ok: false, status: 403, reason: 'the console is read-only (--read-only)' };
  if (req.fetchSite && req.fetchSite !== 'same-origin' && req.fetchSite !== 'none')
    return { ok: false, status: 403, reason: `cross-site request (Sec-Fetch-Site: ${req.fetchSite})` };
  if (req.origin !== undefined && req.origin !== 'null') {
    let originHost: string;
    try {
      originHost = new URL(req.origin).host;
    } catch {
      return { ok: false, status: 403, reason: `unreadable Origin ${req.origin}` };
    }
    if (originHost !== req.host)
      return { ok: false, status: 403, reason: `Origin ${req.origin} is not this console (${req.host ?? 'no Host'})` };
  } else if (req.origin === 'null') {
    return { ok: false, status: 403, reason: 'opaque Origin' };
  }
  if (!req.token || !sameSecret(req.token, formToken(secret, req.who)))
    return { ok: false, status: 403, reason: 'missing or wrong form token: reload the page and try again' };
  return { ok: true };
}
