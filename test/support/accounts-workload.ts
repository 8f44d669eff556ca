/** The accounts table, its fan-out mapping, and a seeded random workload of every kind of change. */
import type { Connection } from 'mysql2/promise';
import type { Scenario } from './scenario';
import type { Row } from '../../src/core/change-event';
import { Decimal } from '../../src/source/debezium/logical-types';

export const ACCOUNTS_SCHEMA = `CREATE TABLE accounts (
  id INT NOT NULL PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  tier ENUM('free','pro','team') NOT NULL,
  balance DECIMAL(14,2) NOT NULL,
  updated_at DATETIME(6) NOT NULL)`;

/** The source rows as ferry decodes them (see the README's type rules). */
export const ACCOUNTS_SELECT = `SELECT id, email, tier, CAST(balance AS CHAR) AS balance,
  DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%f') AS updated_at FROM accounts`;
export const decodeAccount = (row: Row): Row => ({ ...row, balance: Decimal.from(String(row.balance)) });

/** Two items per account: the profile, and an email index whose key moves when the email changes. */
export const accountsMapping = (name: string, extra = '') => `name: '${name}',
  items: (row) => [
    { key: { pk: \`ACCOUNT#\${row.id}\`, sk: 'PROFILE' }, item: { email: row.email, tier: row.tier, balance: row.balance, updatedAt: row.updated_at${extra} } },
    { key: { pk: \`EMAIL#\${row.email}\`, sk: 'ACCOUNT' }, item: { accountId: row.id } },
  ],`;

/** accountsMapping(name), throwing on rows whose email starts with 'poison': they are dead-lettered. */
export function accountsMappingThrowingOnPoison(name: string): string {
  return accountsMapping(name)
    .replace(
      'items: (row) => [',
      `items: (row) => { if (row.email.startsWith('poison')) throw new Error('cannot map ' + row.email); return [`,
    )
    .replace(/\],$/, ']; },');
}

/** mulberry32: a small seeded PRNG so a failing workload can be replayed. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: T[]) => xs[Math.floor(next() * xs.length)] as T,
  };
}

const tiers = ['free', 'pro', 'team'];
const HOT_ROWS = 50;

export class AccountsWorkload {
  readonly ids: number[] = [];
  private nextId = 1;
  private emailSeq = 0;
  /** Row changes issued so far (each row a statement touches counts once). */
  changes = 0;

  constructor(
    private readonly db: Connection,
    private readonly rnd = random(Number(process.env.FERRY_TEST_SEED ?? 42)),
    /** The share of changes that go to the 50 hot rows (the first 50 ids). */
    private readonly hotShare = 0,
  ) {}

  /** A row to change: one of the 50 hot rows for `hotShare` of the changes, any row otherwise. */
  private pickIndex(): number {
    const hot = this.hotShare > 0 && this.rnd.next() < this.hotShare;
    return this.rnd.int(hot ? Math.min(HOT_ROWS, this.ids.length) : this.ids.length);
  }

  private pickId(): number {
    return this.ids[this.pickIndex()] as number;
  }

  private email() {
    return `user${++this.emailSeq}@example.com`;
  }

  private values(id: number) {
    const cents = this.rnd.int(10_000_000);
    return `(${id}, '${this.email()}', '${this.rnd.pick(tiers)}', ${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}, NOW(6))`;
  }

  /** Inserts `count` rows in one multi-row statement. */
  async insert(count: number): Promise<void> {
    const ids = Array.from({ length: count }, () => this.nextId++);
    await this.db.query(`INSERT INTO accounts VALUES ${ids.map((id) => this.values(id)).join(',')}`);
    this.ids.push(...ids);
    this.changes += count;
  }

  /** One random change: update, email change, email swap, primary-key change, delete, insert. */
  async randomChange(db: Connection = this.db): Promise<void> {
    const roll = this.rnd.int(100);
    if (this.ids.length < 5 || roll < 15) {
      const id = this.nextId++;
      await db.query(`INSERT INTO accounts VALUES ${this.values(id)}`);
      this.ids.push(id);
      this.changes++;
    } else if (roll < 55) {
      await db.query(`UPDATE accounts SET balance = balance + ?, tier = ?, updated_at = NOW(6) WHERE id = ?`, [
        this.rnd.int(1000) / 4,
        this.rnd.pick(tiers),
        this.pickId(),
      ]);
      this.changes++;
    } else if (roll < 70) {
      await db.query(`UPDATE accounts SET email = ?, updated_at = NOW(6) WHERE id = ?`, [this.email(), this.pickId()]);
      this.changes++;
    } else if (roll < 78) {
      // b takes a's email after a moves to a new one: two partitions write EMAIL#<a's old email>.
      const a = this.pickId();
      const b = this.rnd.pick(this.ids.filter((id) => id !== a));
      const [[row]] = (await db.query('SELECT email FROM accounts WHERE id = ?', [a])) as unknown as [
        [{ email: string }],
      ];
      await db.query('UPDATE accounts SET email = ? WHERE id = ?', [this.email(), a]);
      await db.query('UPDATE accounts SET email = ? WHERE id = ?', [row.email, b]);
      this.changes += 2;
    } else if (roll < 88) {
      const index = this.pickIndex();
      const newId = this.nextId++;
      await db.query('UPDATE accounts SET id = ? WHERE id = ?', [newId, this.ids[index]]);
      this.ids[index] = newId;
      this.changes++;
    } else {
      const index = this.pickIndex();
      await db.query('DELETE FROM accounts WHERE id = ?', [this.ids[index]]);
      this.ids.splice(index, 1);
      this.changes++;
    }
  }

  /** A multi-statement transaction, including repeated changes to the same row. */
  async transaction(statements: number): Promise<void> {
    await this.db.beginTransaction();
    const id = this.rnd.pick(this.ids);
    await this.db.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id]);
    await this.db.query('UPDATE accounts SET tier = ?, balance = balance + 2 WHERE id = ?', [this.rnd.pick(tiers), id]);
    this.changes += 2;
    for (let i = 0; i < statements; i++) await this.randomChange();
    await this.db.commit();
  }
}

/** The accounts table with `seed` rows that exist before the connector starts (snapshot reads), then the connector. */
export async function startAccounts(
  scenario: Scenario,
  seed: number,
  format: 'json' | 'avro' = 'json',
  extraSql = '',
): Promise<AccountsWorkload> {
  await scenario.setUp(`${ACCOUNTS_SCHEMA}${extraSql ? `; ${extraSql}` : ''}`);
  const workload = new AccountsWorkload(scenario.db);
  await workload.insert(seed);
  await scenario.startConnector(format);
  return workload;
}
