import type { Config } from '../../config/config';
import type { EnvelopeDecoder, KeyDecoder, RecordDecoder } from './envelope';
import { AvroEnvelopeDecoder } from './avro-decoder';
import { JsonEnvelopeDecoder } from './json-decoder';

/** The decoder for the configured Debezium converter. */
export function createDecoder(config: Config): EnvelopeDecoder & KeyDecoder & RecordDecoder {
  switch (config.format) {
    case 'json':
      return new JsonEnvelopeDecoder();
    case 'avro':
      return new AvroEnvelopeDecoder(config.schemaRegistry);
  }
}
