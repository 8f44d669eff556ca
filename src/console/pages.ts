import { html } from 'hono/html';
import { json } from '../cli/output';
import { CAPTURE_QUIET_MS } from '../source/debezium/capture-watch';
import type { ActionResult, ItemView, LetterDryRun, MappingOverview } from './console-data';
import type { LetterState } from './follow';
import type { Cursor, LetterRow } from './letters';

type Html = ReturnType<typeof html>;

/** What every page knows of the request: who, whether actions show, the form token. */
export interface PageContext {
  who: string;
  readOnly: boolean;
  formToken: string;
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:baseline}
header a{color:#fff;text-decoration:none;font-weight:600}header small{margin-left:auto;opacity:.8}
main{padding:16px 20px}h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:18px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:12px}
th,td{border:1px solid #dde1e6;padding:4px 8px;text-align:left;vertical-align:top}th{background:#eef1f5}
pre{background:#fff;border:1px solid #dde1e6;padding:8px;overflow:auto;max-height:420px;margin:0 0 12px}
.err{color:#b00020}.muted{color:#6b7480}.tag{display:inline-block;padding:0 6px;border-radius:8px;background:#e3e8ef;font-size:12px}
.tag.again{background:#ffe1c4}.tag.retried{background:#d4f0dc}.tag.resolved{background:#dcdcf5}
form.filter{display:flex;flex-wrap:wrap;gap:8px;align-items:end;margin-bottom:12px}
form.filter label{display:flex;flex-direction:column;font-size:12px}
button{padding:4px 10px;cursor:pointer}.actions{display:flex;gap:8px;flex-wrap:wrap;margin:8px 0}
.danger{background:#b00020;color:#fff;border:1px solid #800}`;

export function layout(title: string, ctx: PageContext, body: Html): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>${title} · ferry console</title>
        <style>
          ${STYLE}
        </style>
      </head>
      <body>
        <header>
          <a href="/">ferry console</a
          ><small>${ctx.who}${ctx.readOnly ? html` · <span data-testid="read-only">read-only</span>` : ''}</small>
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}

const num = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits });

const lettersUrl = (mapping: string, query: Record<string, string | undefined> = {}) => {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => !!e[1]));
  const qs = params.toString();
  return `/m/${encodeURIComponent(mapping)}/letters${qs ? `?${qs}` : ''}`;
};

export function overviewPage(ctx: PageContext, rows: MappingOverview[]): Html {
  return layout(
    'Overview',
    ctx,
    html`<h1>Mappings</h1>
      <table data-testid="overview">
        <tr>
          <th>mapping</th>
          <th>group members</th>
          <th>lag per partition</th>
          <th>events/s</th>
          <th>freshness</th>
          <th>capture</th>
          <th>dead letters</th>
          <th>blocked partitions</th>
        </tr>
        ${rows.map((r) => overviewRow(r))}
      </table>
      <p class="muted">
        Events/s and freshness compare this view with the previous one (reload to sample again); — means not known yet.
        Lag and members come from Kafka; freshness, capture and blocked partitions from the workers' /metrics and
        /status. Capture is how long ago the Debezium connector last wrote a heartbeat: over 3 minutes, capture has
        probably stopped (README runbook "The connector stopped").
      </p>`,
  );
}

function overviewRow(r: MappingOverview): Html {
  const { entry } = r;
  if (r.error && !entry.mapping)
    return html`<tr data-mapping="${entry.name}">
      <td>${entry.name}<br /><span class="muted">${entry.path}</span></td>
      <td colspan="7" class="err">${r.error}</td>
    </tr>`;
  return html`<tr data-mapping="${entry.name}">
    <td>
      <a href="${lettersUrl(entry.name)}">${entry.name}</a><br /><span class="muted"
        >${entry.topic} → ${entry.mapping?.targetTable}<br />group ${entry.group}</span
      >
      ${r.error ? html`<div class="err">${r.error}</div>` : ''}
    </td>
    <td>
      ${
        r.members.length === 0
          ? html`<span class="muted">none</span>`
          : r.members.map((m) => html`<div>${m.clientId}@${m.host.replace(/^\//, '')}</div>`)
      }
      ${r.workers.filter((w) => w.error).map((w) => html`<div class="err">worker ${w.url}: ${w.error}</div>`)}
    </td>
    <td>
      ${
        r.partitions.length === 0
          ? '—'
          : html`total ${num(r.totalLag)}
              <div class="muted">${r.partitions.map((p) => html`<span>p${p.partition}: ${p.lag} </span>`)}</div>`
      }
    </td>
    <td data-testid="events-per-second">
      ${num(r.eventsPerSecond, 1)}${r.eventsFrom ? html` <span class="muted">(${r.eventsFrom})</span>` : ''}
    </td>
    <td>${r.freshnessSeconds === null ? '—' : `${num(r.freshnessSeconds, 2)} s`}</td>
    <td data-testid="capture">
      ${
        r.heartbeatAgeSeconds === null
          ? '—'
          : r.heartbeatAgeSeconds * 1000 > CAPTURE_QUIET_MS
            ? html`<span class="err">no heartbeat for ${num(r.heartbeatAgeSeconds)} s: stopped?</span>`
            : `heartbeat ${num(r.heartbeatAgeSeconds)} s ago`
      }
    </td>
    <td data-testid="letters">
      <a href="${lettersUrl(entry.name)}">${r.letters.total}</a>
      ${r.letters.failedAgain > 0 ? html` <span class="tag again">${r.letters.failedAgain} failed again</span>` : ''}
      ${r.letters.byClass.map(
        (c) =>
          html`<div><a href="${lettersUrl(entry.name, { class: c.errorClass })}">${c.errorClass}</a>: ${c.count}</div>`,
      )}
    </td>
    <td>
      ${
        r.blocked.length === 0
          ? html`<span class="muted">none</span>`
          : r.blocked.map(
              (b) =>
                html`<div class="err">
                  ${b.topic}[${b.partition}] since ${b.since}: ${b.error}${b.key ? html` (item ${json(b.key, 0)})` : ''}
                </div>`,
            )
      }
    </td>
  </tr>`;
}

export interface LettersView {
  mapping: string;
  query: Record<string, string | undefined>;
  letters: LetterRow[];
  stateOf: (id: string) => LetterState | undefined;
  next: Cursor | null;
  classes: string[];
}

/** Hidden fields that carry the filter into an action form. */
const filterFields = (query: Record<string, string | undefined>) =>
  ['class', 'from', 'to', 'q', 'state'].map((name) =>
    query[name] ? html`<input type="hidden" name="${name}" value="${query[name]}" />` : '',
  );

export function stateTag(letter: LetterRow, state: LetterState | undefined): Html {
  return html`${
    letter.retryOf
      ? html`<span class="tag again" data-testid="failed-again">failed again, retry of ${letter.retryOf}</span> `
      : ''
  }${
    state
      ? html`<span class="tag ${state.state}" title="${state.who} at ${state.when}"
          >${state.state}${state.outcome ? `: ${state.outcome}` : ''}</span
        >`
      : html`<span class="tag">open</span>`
  }`;
}

export function lettersPage(ctx: PageContext, v: LettersView): Html {
  const q = v.query;
  const base = `/m/${encodeURIComponent(v.mapping)}`;
  return layout(
    `Dead letters of ${v.mapping}`,
    ctx,
    html`<h1>Dead letters of ${v.mapping}</h1>
      <p><a href="${base}/item">Look up an item's history</a></p>
      <form class="filter" method="get" action="${base}/letters">
        <label
          >error class
          <input name="class" list="classes" value="${q.class ?? ''}" />
          <datalist id="classes">${v.classes.map((c) => html`<option value="${c}"></option>`)}</datalist>
        </label>
        <label>failed from (UTC)<input type="datetime-local" name="from" value="${q.from ?? ''}" /></label>
        <label>to (UTC)<input type="datetime-local" name="to" value="${q.to ?? ''}" /></label>
        <label>key or error contains<input name="q" value="${q.q ?? ''}" /></label>
        <label
          >state
          <select name="state">
            ${['all', 'open', 'retried', 'resolved'].map(
              (s) => html`<option value="${s}" ${(q.state ?? 'all') === s ? 'selected' : ''}>${s}</option>`,
            )}
          </select>
        </label>
        <button type="submit">Filter</button>
        <a href="${base}/letters">clear</a>
      </form>
      <form method="post" action="${base}/preview">
        <input type="hidden" name="csrf" value="${ctx.formToken}" />
        ${filterFields(q)}
        <table data-testid="letters">
          <tr>
            ${ctx.readOnly ? '' : html`<th></th>`}
            <th>letter</th>
            <th>failed at</th>
            <th>origin</th>
            <th>key</th>
            <th>error</th>
            <th>state</th>
          </tr>
          ${v.letters.map(
            (l) =>
              html`<tr data-letter="${l.id}">
                ${
                  ctx.readOnly
                    ? ''
                    : html`<td><input type="checkbox" name="letter" value="${l.id}" aria-label="select ${l.id}" /></td>`
                }
                <td><a href="${base}/letters/${l.partition}/${l.offset}">${l.id}</a></td>
                <td>${l.failedAt}</td>
                <td>${l.origin.topic}[${l.origin.partition}]@${l.origin.offset}</td>
                <td><code>${short(l.key ?? '(none)', 80)}</code></td>
                <td><b>${l.errorClass}</b>: ${short(l.errorMessage, 200)}</td>
                <td>${stateTag(l, v.stateOf(l.id))}</td>
              </tr>`,
          )}
        </table>
        ${v.letters.length === 0 ? html`<p class="muted">No dead letter matches.</p>` : ''}
        ${
          ctx.readOnly
            ? ''
            : html`<div class="actions">
                <button name="action" value="retry:selected">Retry selected</button>
                <button name="action" value="resolve:selected">Mark selected resolved</button>
                <button name="action" value="retry:filter">Retry all matching</button>
                <button name="action" value="resolve:filter">Mark all matching resolved</button>
              </div>`
        }
      </form>
      ${
        v.next
          ? html`<a
              data-testid="next-page"
              href="${lettersUrl(v.mapping, { ...q, after: `${v.next.partition}/${v.next.offset}` })}"
              >next page →</a
            >`
          : html`<p class="muted">End of the dead letters.</p>`
      }`,
  );
}

const short = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A message value as readable as it gets: indented JSON, else the text, else base64. */
export function prettyValue(value: string | null): string {
  if (value === null) return '(null: a tombstone)';
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value.includes('\ufffd') ? `(binary, base64) ${Buffer.from(value, 'utf8').toString('base64')}` : value;
  }
}

export function letterPage(
  ctx: PageContext,
  mapping: string,
  letter: LetterRow,
  state: LetterState | undefined,
  dryRun: LetterDryRun,
): Html {
  const base = `/m/${encodeURIComponent(mapping)}`;
  return layout(
    `Dead letter ${letter.id}`,
    ctx,
    html`<h1>Dead letter ${letter.id} of <a href="${base}/letters">${mapping}</a></h1>
      <p>${stateTag(letter, state)}</p>
      <table>
        <tr>
          <th>origin</th>
          <td data-testid="origin">
            ${letter.origin.topic} partition ${letter.origin.partition} offset ${letter.origin.offset}
          </td>
        </tr>
        <tr>
          <th>failed at</th>
          <td>${letter.failedAt}</td>
        </tr>
        <tr>
          <th>error</th>
          <td data-testid="error"><b>${letter.errorClass}</b>: ${letter.errorMessage}</td>
        </tr>
        <tr>
          <th>key</th>
          <td><code>${letter.key ?? '(none)'}</code></td>
        </tr>
      </table>
      <h2>What the current mapping would write now (dry run, nothing written)</h2>
      ${
        dryRun.error
          ? html`<p class="err" data-testid="dry-run">fails: ${dryRun.error}</p>`
          : html`<pre data-testid="dry-run">${dryRun.intents ? json(dryRun.intents.map(describeIntent)) : '—'}</pre>`
      }
      ${
        ctx.readOnly
          ? ''
          : html`<form method="post" action="${base}/preview" class="actions">
              <input type="hidden" name="csrf" value="${ctx.formToken}" />
              <input type="hidden" name="letter" value="${letter.id}" />
              <button name="action" value="retry:selected">Retry this letter</button>
              <button name="action" value="resolve:selected">Mark resolved</button>
            </form>`
      }
      <h2>Decoded change</h2>
      <pre data-testid="decoded">${dryRun.decoded ? json(dryRun.decoded) : '—'}</pre>
      <h2>Headers</h2>
      <table>
        ${Object.entries(letter.headers).map(
          ([k, v]) =>
            html`<tr>
              <th>${k}</th>
              <td>${v}</td>
            </tr>`,
        )}
      </table>
      <h2>Message</h2>
      <pre data-testid="raw">${prettyValue(letter.value)}</pre> `,
  );
}

/** An item's history: what the table holds, and each change the applied-changes log recorded for it. */
export function itemPage(ctx: PageContext, mapping: string, keyText: string, v: ItemView | undefined): Html {
  const base = `/m/${encodeURIComponent(mapping)}`;
  const held = v?.current?._ferry_version?.S;
  return layout(
    `Item of ${mapping}`,
    ctx,
    html`<h1>Why does this item of <a href="${base}/letters">${mapping}</a> look like this?</h1>
      <form class="filter" method="get" action="${base}/item">
        <label>item key, as the mapping returns it (JSON)<input name="key" size="60" value="${keyText}" /></label>
        <button type="submit">Look up</button>
      </form>
      ${
        v === undefined
          ? ''
          : html`<h2>In the table now</h2>
              ${
                v.current
                  ? html`<table data-testid="current">
                      ${Object.entries(v.current)
                        .sort(([a], [b]) => a.localeCompare(b))
                        .map(
                          ([name, value]) =>
                            html`<tr>
                              <th>${name}</th>
                              <td><code>${json(value, 0)}</code></td>
                            </tr>`,
                        )}
                    </table>`
                  : html`<p data-testid="current">(no item)</p>`
              }
              ${
                v.off
                  ? html`<p class="muted" data-testid="history">
                      ${v.topic} does not exist: the applied-changes log is off for this mapping
                      (FERRY_APPLIED_LOG_ENABLED).
                    </p>`
                  : html`<h2>
                        Changes that wrote it
                        (${v.total}${v.total > v.entries.length ? `, the last ${v.entries.length}` : ''}), from
                        ${v.topic}
                      </h2>
                      <table data-testid="history">
                        <tr>
                          <th>applied at</th>
                          <th>source change</th>
                          <th>committed at</th>
                          <th>operation</th>
                          <th>outcome</th>
                          <th>version</th>
                        </tr>
                        ${v.entries.map(
                          ({ record: r, source, appliedAtMs }) =>
                            html`<tr data-outcome="${r.outcome}">
                              <td>${new Date(appliedAtMs).toISOString()}</td>
                              <td>${r.change} at ${source.topic} partition ${source.partition} offset ${r.offset}</td>
                              <td>${r.committedAtMs === null ? '—' : new Date(r.committedAtMs).toISOString()}</td>
                              <td>${r.operation}</td>
                              <td>
                                ${r.outcome}${r.outcome === 'written' && r.version === held ? html` <span class="tag retried">in the table</span>` : ''}
                                ${r.error ? html`<div class="err">${r.error}</div>` : ''}
                              </td>
                              <td><code>${r.version}</code></td>
                            </tr>`,
                        )}
                      </table>`
              }`
      }`,
  );
}

const describeIntent = (intent: NonNullable<LetterDryRun['intents']>[number]) =>
  intent.kind === 'put'
    ? { put: intent.table, key: intent.key, item: intent.item }
    : { delete: intent.table, key: intent.key };

export interface ActionView {
  mapping: string;
  action: 'retry' | 'resolve';
  scope: 'selected' | 'filter';
  letterIds: string[];
  query: Record<string, string | undefined>;
  result: ActionResult;
}

const verb = (action: 'retry' | 'resolve') => (action === 'retry' ? 'Retry' : 'Mark resolved');

/** The dry run of an action and the form that confirms it. */
export function previewPage(ctx: PageContext, v: ActionView): Html {
  const base = `/m/${encodeURIComponent(v.mapping)}`;
  return layout(
    'Confirm',
    ctx,
    html`<h1>${verb(v.action)}: ${v.result.total} dead letter${v.result.total === 1 ? '' : 's'} of ${v.mapping}?</h1>
      <p>
        Dry run:
        ${
          v.action === 'retry'
            ? 'each letter went through the current mapping at its original origin; nothing was written.'
            : 'these letters would be marked resolved without being run.'
        }
      </p>
      ${resultTable(v.result)} ${v.result.error ? html`<p class="err">${v.result.error}</p>` : ''}
      <form method="post" action="${base}/run" class="actions">
        <input type="hidden" name="csrf" value="${ctx.formToken}" />
        <input type="hidden" name="action" value="${v.action}:${v.scope}" />
        ${v.scope === 'selected' ? v.letterIds.map((id) => html`<input type="hidden" name="letter" value="${id}" />`) : ''}
        ${v.scope === 'filter' ? filterFields(v.query) : ''}
        <button class="danger" data-testid="confirm" ${v.result.total === 0 ? 'disabled' : ''}>
          Confirm: ${verb(v.action).toLowerCase()} ${v.result.total}
        </button>
        <a href="${base}/letters">cancel</a>
      </form>`,
  );
}

export function resultPage(ctx: PageContext, v: ActionView): Html {
  const base = `/m/${encodeURIComponent(v.mapping)}`;
  return layout(
    'Done',
    ctx,
    html`<h1 data-testid="result">
        ${v.action === 'retry' ? 'Retried' : 'Marked resolved'}: ${v.result.total} dead
        letter${v.result.total === 1 ? '' : 's'} of ${v.mapping}
      </h1>
      ${v.result.error ? html`<p class="err" data-testid="result-error">stopped: ${v.result.error}</p>` : ''}
      ${resultTable(v.result)}
      <p>Recorded in the audit topic. <a href="${base}/letters">Back to the dead letters</a></p>`,
  );
}

function resultTable(result: ActionResult): Html {
  const { report } = result;
  return html`${
      report
        ? html`<p data-testid="report">
            ${report.written} written, ${report.stale} stale, ${report.filtered} filtered, ${report['dead-lettered']}
            dead-lettered again, ${report.skipped} skipped, ${report.expired} expired
          </p>`
        : ''
    }
    <table data-testid="action-letters">
      <tr>
        <th>letter</th>
        <th>outcome</th>
      </tr>
      ${result.letters.map(
        (l) =>
          html`<tr>
            <td>${l.id}</td>
            <td>${l.outcome}</td>
          </tr>`,
      )}
    </table>
    ${
      result.total > result.letters.length
        ? html`<p class="muted">and ${result.total - result.letters.length} more</p>`
        : ''
    }`;
}

export function errorPage(ctx: PageContext, title: string, message: string): Html {
  return layout(
    title,
    ctx,
    html`<h1>${title}</h1>
      <p class="err" data-testid="error-message">${message}</p>`,
  );
}
