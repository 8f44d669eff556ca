#!/usr/bin/env node
import { main } from './index';

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ferry: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
