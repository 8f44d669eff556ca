#!/usr/bin/env node
import { main } from './index';

// kafkajs 2.2.4 arms a timer with a negative delay; Node 24 warns on every command (the timer fires at once).
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'TimeoutNegativeWarning') process.stderr.write(`(node) ${warning.name}: ${warning.message}\n`);
});

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`ferry: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
