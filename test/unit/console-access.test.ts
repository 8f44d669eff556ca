import { randomBytes } from 'node:crypto';
import { accessRules, authenticate, checkAction, formToken, sameSecret, sessionValue } from '../../src/console/access';
import { actionView } from '../../src/console/server';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('console > access', () => {
  it('starts unauthenticated on loopback only, and refuses any other address without credentials', () => {
    expect(accessRules('127.0.0.1', {}, false)).toEqual({ readOnly: false });
    expect(accessRules('::1', {}, true)).toEqual({ readOnly: true });
    expect(() => accessRules('0.0.0.0', {}, false)).toThrow(/not loopback: set FERRY_CONSOLE_TOKEN/);
    expect(() => accessRules('10.0.0.5', { user: 'ops' }, false)).toThrow(/go together/);
    expect(accessRules('0.0.0.0', { token: 't' }, false).token).toBe('t');
    expect(accessRules('0.0.0.0', { user: 'ops', password: 'pw' }, false).basic).toEqual({
      user: 'ops',
      password: 'pw',
    });
  });

  it('lets loopback in as "loopback" when no credentials are set, asked for by a loopback name only', () => {
    for (const host of ['127.0.0.1:9470', 'localhost:9470', '[::1]:9470', 'LOCALHOST'])
      expect([host, authenticate({ readOnly: false }, { host })]).toEqual([host, { ok: true, who: 'loopback' }]);
    // DNS rebinding: another site's name pointed at 127.0.0.1 must not read the console as its own origin.
    for (const host of ['evil.example:9470', '127.0.0.1.evil.example', undefined])
      expect(authenticate({ readOnly: false }, { host })).toMatchObject({
        ok: false,
        status: 401,
        reason: expect.stringMatching(/is not a loopback name/),
      });
  });

  it('takes the token as a bearer, once in the query (setting the cookie), then from the cookie', () => {
    const rules = accessRules('127.0.0.1', { token: 'tok' }, false);
    expect(authenticate(rules, {})).toMatchObject({ ok: false, status: 401, reason: 'credentials required' });
    expect(authenticate(rules, { authorization: 'Bearer nope' })).toMatchObject({
      ok: false,
      reason: 'wrong credentials',
    });
    expect(authenticate(rules, { authorization: 'Bearer tok' })).toEqual({ ok: true, who: 'token' });
    const viaQuery = authenticate(rules, { queryToken: 'tok' });
    expect(viaQuery).toEqual({ ok: true, who: 'token', setCookie: sessionValue('tok') });
    expect(sessionValue('tok')).not.toContain('tok');
    expect(authenticate(rules, { cookie: sessionValue('tok') })).toEqual({ ok: true, who: 'token' });
    expect(authenticate(rules, { cookie: sessionValue('other') })).toMatchObject({ ok: false });
    expect(authenticate(rules, { queryToken: 'tok2' })).toMatchObject({ ok: false });
  });

  it('takes basic credentials as the user they name, and challenges without them', () => {
    const rules = accessRules('0.0.0.0', { user: 'ops', password: 'p:w' }, false);
    expect(authenticate(rules, { authorization: basic('ops', 'p:w') })).toEqual({ ok: true, who: 'ops' });
    expect(authenticate(rules, { authorization: basic('ops', 'p') })).toMatchObject({ ok: false, status: 401 });
    expect(authenticate(rules, { authorization: basic('root', 'p:w') })).toMatchObject({ ok: false });
    expect(authenticate(rules, {})).toMatchObject({ challenge: expect.stringContaining('Basic realm') });
  });

  it('compares secrets of any length', () => {
    expect(sameSecret('a', 'a')).toBe(true);
    expect(sameSecret('a', 'ab')).toBe(false);
    expect(sameSecret('', 'x')).toBe(false);
  });

  describe('actions', () => {
    const secret = randomBytes(32);
    const rules = accessRules('127.0.0.1', {}, false);
    const ok = { who: 'loopback', token: formToken(secret, 'loopback'), host: 'localhost:9470' };

    it('accepts a same-origin form with the user token', () => {
      expect(checkAction(rules, secret, ok)).toEqual({ ok: true });
      expect(checkAction(rules, secret, { ...ok, origin: 'http://localhost:9470', fetchSite: 'same-origin' })).toEqual({
        ok: true,
      });
    });

    it('refuses every action when read-only', () => {
      expect(checkAction({ ...rules, readOnly: true }, secret, ok)).toMatchObject({ ok: false, status: 403 });
    });

    it('refuses another origin, a cross-site fetch, an opaque origin', () => {
      expect(checkAction(rules, secret, { ...ok, origin: 'http://evil.example' })).toMatchObject({ ok: false });
      expect(checkAction(rules, secret, { ...ok, fetchSite: 'cross-site' })).toMatchObject({ ok: false });
      expect(checkAction(rules, secret, { ...ok, origin: 'null' })).toMatchObject({ ok: false });
    });

    it("refuses a missing token, a wrong one, and another user's", () => {
      expect(checkAction(rules, secret, { ...ok, token: undefined })).toMatchObject({ ok: false });
      expect(checkAction(rules, secret, { ...ok, token: 'x' })).toMatchObject({ ok: false });
      expect(checkAction(rules, secret, { ...ok, token: formToken(secret, 'ops') })).toMatchObject({ ok: false });
      expect(checkAction(rules, randomBytes(32), ok)).toMatchObject({ ok: false });
    });
  });

  it('reads an action form, and names what is wrong with one', () => {
    expect(actionView('m', { action: 'retry:selected', letter: ['0/1', '0/2'] })).toMatchObject({
      action: 'retry',
      scope: 'selected',
      letterIds: ['0/1', '0/2'],
    });
    expect(actionView('m', { action: 'resolve:filter', class: 'DecodeError' }).query).toMatchObject({
      class: 'DecodeError',
    });
    expect(() => actionView('m', { action: 'delete:selected' })).toThrow(/not retry or resolve/);
    expect(() => actionView('m', { action: 'retry:selected' })).toThrow(/no letter selected/);
    expect(() => actionView('m', { action: 'retry:selected', letter: 'x' })).toThrow(/not <partition>\/<offset>/);
  });
});
