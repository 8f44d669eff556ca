/**
 * A FLOAT as the server shows it: MariaDB's own text for generated 32-bit values, exact ties at
 * the seventh digit among them, against mysqlFloat (what the worker writes of a streamed FLOAT,
 * and what verify compares with). Needs MariaDB from the local stack.
 */
import fc from 'fast-check';
import type { Connection } from 'mysql2/promise';
import { mysqlFloat } from '../../src/source/debezium/logical-types';
import { mariadb, uniqueId } from '../support/stack';

/** A float32 whose exact value ends at a 5 in its seventh significant digit: six digits, then 5, times a power of ten. */
const tie = fc
  .tuple(fc.integer({ min: 100_000, max: 999_999 }), fc.integer({ min: -3, max: 3 }), fc.boolean())
  .map(([six, power, negative]) => (negative ? -1 : 1) * (six * 10 + 5) * 10 ** power)
  .filter((v) => Math.fround(v) === v);

describe('integration > FLOAT as MariaDB shows it', () => {
  const database = `ferry_test_float_${uniqueId()}`;
  let db: Connection;
  beforeAll(async () => {
    db = await mariadb();
    await db.query(`CREATE DATABASE ${database}; CREATE TABLE ${database}.f (id INT PRIMARY KEY, v FLOAT)`);
  });
  afterAll(async () => {
    await db.query(`DROP DATABASE IF EXISTS ${database}`);
    await db.end();
  });

  it('rounds every 32-bit value as the server does, exact ties to the even digit', async () => {
    const seed = Number(process.env.FERRY_FUZZ_SEED ?? Date.now() % 2 ** 31);
    const values = [
      ...fc.sample(fc.float({ noNaN: true, noDefaultInfinity: true }), { numRuns: 1500, seed }),
      ...fc.sample(tie, { numRuns: 500, seed }),
    ];
    // The exact value as a literal: the server reads it into the same 32-bit float.
    const literal = (v: number) => (Object.is(v, -0) ? '0' : v.toPrecision(17));
    await db.query(`INSERT INTO ${database}.f VALUES ${values.map((v, i) => `(${i}, ${literal(v)})`).join(', ')}`);
    // mysql2 reads the server's text of a FLOAT into a number, as verify does.
    const [rows] = (await db.query(`SELECT id, v FROM ${database}.f ORDER BY id`)) as unknown as [
      Array<{ id: number; v: number }>,
    ];
    const differ = rows
      .filter((r) => !Object.is(mysqlFloat(values[r.id] as number) + 0, r.v + 0))
      .map((r) => ({ seed, value: values[r.id], server: r.v, ferry: mysqlFloat(values[r.id] as number) }));
    expect(differ).toEqual([]);
    expect(rows).toHaveLength(values.length);
  });
});
