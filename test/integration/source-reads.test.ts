/** Each partition's read, kept in the deletes table of DynamoDB Local for the next process (pipeline/source-order). */
import { ensureDeletesTable } from '../../src/sink/dynamodb/deletes';
import { DynamoDbSourceReads } from '../../src/sink/dynamodb/source-reads';
import { dropTable, dynamoDb, scanAll, uniqueId } from '../support/stack';

describe('integration > kept source reads', () => {
  const table = `ferry-deletes-reads-${uniqueId()}`;
  const { raw } = dynamoDb();
  const reads = new DynamoDbSourceReads(raw, table);
  beforeAll(() => ensureDeletesTable(raw, table, true));
  afterAll(() => dropTable(table));

  const read = (offset: string, sequence: string) => ({
    offset,
    version: `v1:0000000003-00000000000000000484-0000000000-2@00${offset}`,
    latestCommitMs: 1_764_979_200_000 + Number(offset),
    sequences: { 'domain 0': sequence, '3e11fa47-71ca-11e1-9e33-c80aa9429562': '18446744073709551615' },
  });

  it('keeps a partition’s read as given, one per topic and partition, moving only forward', async () => {
    expect(await reads.load('t.db.things', 3)).toBeUndefined();
    await reads.save('t.db.things', 3, read('120', '6157'));
    await reads.save('t.db.things', 4, read('7', '1'));
    expect(await reads.load('t.db.things', 3)).toEqual(read('120', '6157'));
    // A process behind another (an evicted one's last batch) does not move it back.
    await reads.save('t.db.things', 3, read('90', '6100'));
    expect(await reads.load('t.db.things', 3)).toEqual(read('120', '6157'));
    await reads.save('t.db.things', 3, read('121', '6158'));
    expect((await reads.load('t.db.things', 3))?.offset).toBe('121');
    expect((await scanAll(table)).map((i) => i.id).sort()).toEqual(['read#t.db.things#3', 'read#t.db.things#4']);
  });
});
