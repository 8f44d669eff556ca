import fc from 'fast-check';
import { WrittenKeys } from '../../src/sink/dynamodb/written-keys';

describe('WrittenKeys', () => {
  it('never says no to a key it was given', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 500 }), (keys) => {
        const written = new WrittenKeys(12);
        for (const key of keys) written.add(key);
        expect(keys.filter((key) => !written.mayHave(key))).toEqual([]);
      }),
    );
  });

  it('says maybe to few keys it was not given, at the load it is sized for', () => {
    // 2^16 bits for 5,000 keys is the default's ratio (2^26 bits for 5 million): about 0.3% expected.
    const written = new WrittenKeys(16);
    for (let i = 0; i < 5_000; i++) written.add(`ferry-customers\u0000pk=SCUSTOMER#${i}\u0000sk=SPROFILE`);
    let maybes = 0;
    for (let i = 5_000; i < 105_000; i++)
      if (written.mayHave(`ferry-customers\u0000pk=SCUSTOMER#${i}\u0000sk=SPROFILE`)) maybes++;
    expect(maybes / 100_000).toBeLessThan(0.01);
  });
});
