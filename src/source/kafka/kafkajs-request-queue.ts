import { createRequire } from 'node:module';

interface RequestQueue {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

/**
 * kafkajs 2.2.4 (its last release) re-arms a timer every millisecond, forever, on each broker
 * connection that has nothing queued: `throttledUntil` starts at -1 and the delay it computes is
 * negative (tulios/kafkajs#1751; Node 24 warns). An idle admin and producer took 46-49 ms of CPU a
 * second and 1,759-1,773 timers a second on this project's machine. With nothing queued there is
 * nothing to check: a request queued later schedules its own check.
 */
export function stopIdleRequestQueuePolling(): void {
  const prototype = (
    createRequire(__filename)('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueue }
  ).prototype;
  const schedule = prototype.scheduleCheckPendingRequests;
  if ((schedule as { ferry?: boolean }).ferry) return;
  const patched = function (this: RequestQueue) {
    if (this.pending.length > 0) schedule.call(this);
  };
  prototype.scheduleCheckPendingRequests = Object.assign(patched, { ferry: true });
}
