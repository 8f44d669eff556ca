import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { ConfigError, describe } from '../core/errors';
import type { Logger } from '../observability/logger';
import { type AccessRules, SESSION_COOKIE, authenticate, checkAction, formToken } from './access';
import type { ConsoleData, Selection } from './console-data';
import { parseFilter, parseLetterId } from './letters';
import {
  type ActionView,
  type PageContext,
  errorPage,
  itemPage,
  letterPage,
  lettersPage,
  overviewPage,
  previewPage,
  resultPage,
} from './pages';

type Env = { Variables: { page: PageContext } };

/** The console's web application: pages rendered here, forms that work without JavaScript. */
export function consoleApp(data: ConsoleData, rules: AccessRules, logger: Logger): Hono<Env> {
  // Lives as long as the process: a restart invalidates open forms, nothing else.
  const secret = randomBytes(32);
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const decision = authenticate(rules, {
      authorization: c.req.header('authorization'),
      cookie: getCookie(c, SESSION_COOKIE),
      queryToken: c.req.query('token'),
      host: c.req.header('host'),
    });
    if (!decision.ok) {
      if (decision.challenge) c.header('WWW-Authenticate', decision.challenge);
      return c.text(`401 ${decision.reason}\n`, 401);
    }
    if (decision.setCookie) {
      setCookie(c, SESSION_COOKIE, decision.setCookie, { httpOnly: true, sameSite: 'Strict', path: '/' });
      // The token leaves the address bar (and the history) at once.
      const url = new URL(c.req.url);
      url.searchParams.delete('token');
      return c.redirect(`${url.pathname}${url.search}`, 303);
    }
    c.set('page', { who: decision.who, readOnly: rules.readOnly, formToken: formToken(secret, decision.who) });
    c.header('Cache-Control', 'no-store');
    c.header('X-Frame-Options', 'DENY');
    c.header('Referrer-Policy', 'same-origin');
    await next();
  });

  app.post('*', async (c, next) => {
    const form = await c.req.parseBody({ all: true });
    const referer = c.req.header('referer');
    const decision = checkAction(rules, secret, {
      who: c.get('page').who,
      token: typeof form.csrf === 'string' ? form.csrf : undefined,
      origin: c.req.header('origin') ?? (referer ? safeOrigin(referer) : undefined),
      host: c.req.header('host'),
      fetchSite: c.req.header('sec-fetch-site'),
    });
    if (!decision.ok) {
      logger.warn({ who: c.get('page').who, path: c.req.path, reason: decision.reason }, 'console action refused');
      return c.html(errorPage(c.get('page'), 'Refused', decision.reason), 403);
    }
    await next();
  });

  app.get('/', async (c) => c.html(overviewPage(c.get('page'), await data.overview())));

  app.get('/m/:mapping/letters', async (c) => {
    const mapping = c.req.param('mapping');
    const query = c.req.query();
    const filter = parseFilter(query);
    const after = query.after ? parseLetterId(query.after, 'after') : undefined;
    const { letters, next } = await data.page(mapping, filter, after);
    const classes = (await data.overview()).find((o) => o.entry.name === mapping)?.letters.byClass ?? [];
    return c.html(
      lettersPage(c.get('page'), {
        mapping,
        query,
        letters,
        next,
        classes: classes.map((k) => k.errorClass),
        stateOf: (id) => data.states.of(mapping, id),
      }),
    );
  });

  app.get('/m/:mapping/letters/:partition/:offset', async (c) => {
    const mapping = c.req.param('mapping');
    const id = `${c.req.param('partition')}/${c.req.param('offset')}`;
    const found = await data.letter(mapping, id);
    if (!found) return c.html(errorPage(c.get('page'), 'Not found', `no dead letter ${id} of ${mapping}`), 404);
    return c.html(letterPage(c.get('page'), mapping, found.letter, data.states.of(mapping, id), found.dryRun));
  });

  app.get('/m/:mapping/item', async (c) => {
    const mapping = c.req.param('mapping');
    const key = c.req.query('key') ?? '';
    return c.html(itemPage(c.get('page'), mapping, key, key ? await data.item(mapping, key) : undefined));
  });

  const action = async (c: Context<Env>, dryRun: boolean) => {
    const mapping = c.req.param('mapping') as string;
    const form = await c.req.parseBody({ all: true });
    const view = actionView(mapping, form);
    const who = c.get('page').who;
    const run = view.action === 'retry' ? data.retry.bind(data) : data.resolve.bind(data);
    if (!dryRun) logger.info({ who, mapping, action: view.action, scope: view.scope }, 'console action');
    view.result = await run(mapping, selectionOf(view), { dryRun, who });
    return c.html((dryRun ? previewPage : resultPage)(c.get('page'), view));
  };
  app.post('/m/:mapping/preview', (c) => action(c, true));
  app.post('/m/:mapping/run', (c) => action(c, false));

  app.onError((err, c) => {
    const bad = err instanceof ConfigError;
    if (!bad) logger.error({ err: describe(err), path: c.req.path }, 'console request failed');
    const page = c.get('page') ?? { who: '', readOnly: true, formToken: '' };
    return c.html(errorPage(page, bad ? 'Bad request' : 'Failed', err.message), bad ? 400 : 500);
  });
  return app;
}

const safeOrigin = (url: string) => {
  try {
    return new URL(url).origin;
  } catch {
    return 'null';
  }
};

type Form = Record<string, string | File | (string | File)[]>;
const strings = (value: Form[string] | undefined): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === 'string');

/** What an action form asks: `action` is retry|resolve : selected|filter. */
export function actionView(mapping: string, form: Form): ActionView {
  const [action, scope] = (strings(form.action)[0] ?? '').split(':');
  if ((action !== 'retry' && action !== 'resolve') || (scope !== 'selected' && scope !== 'filter'))
    throw new ConfigError(`action "${strings(form.action)[0] ?? ''}" is not retry or resolve, of selected or filter`);
  const letterIds = strings(form.letter);
  if (scope === 'selected' && letterIds.length === 0) throw new ConfigError('no letter selected: tick at least one');
  letterIds.forEach((id) => parseLetterId(id));
  const query = Object.fromEntries(['class', 'from', 'to', 'q', 'state'].map((k) => [k, strings(form[k])[0]]));
  return { mapping, action, scope, letterIds, query, result: { letters: [], total: 0 } };
}

const selectionOf = (v: ActionView): Selection =>
  v.scope === 'selected' ? { kind: 'ids', ids: v.letterIds } : { kind: 'filter', filter: parseFilter(v.query) };

/** Serves the app; resolves once listening, with the address it got. */
export async function startConsoleServer(
  app: Hono<Env>,
  host: string,
  port: number,
): Promise<{ server: ServerType; url: string; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        server,
        url: `http://${shown}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            // A browser's keep-alive connection would hold close() open.
            if ('closeAllConnections' in server) server.closeAllConnections();
          }),
      });
    });
    server.once('error', (err) => reject(new ConfigError(`cannot listen on ${host}:${port}: ${describe(err)}`)));
  });
}
