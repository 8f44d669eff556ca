/** The faults `npm run chaos` injects during load, each with its long and its short (CI) form. */
import type { Nemesis, Trial } from './trial';

/** Load before the first fault, so each fault lands on a group in steady state. */
const warmUp = (t: Trial) => t.sleep(t.short ? 5_000 : 15_000);
/** How long a timed fault lasts. */
const window = (short: boolean) => (short ? 15_000 : 60_000);

const kill: Nemesis = {
  name: 'kill',
  workers: 3,
  describe: (short) => `SIGKILL a random worker ${short ? 5 : 20} times over ${short ? '20,000' : '200,000'} changes`,
  act: async (t) => {
    const kills = t.short ? 5 : 20;
    const changes = t.short ? 20_000 : 200_000;
    for (let i = 1; i <= kills; i++) {
      // Evenly spread, each moment jittered so kills land at every stage of a chunk.
      await t.untilChanges(((i - 0.5 + t.rnd.next()) * changes) / (kills + 1));
      const victim = t.rnd.pick(t.workers());
      await t.stopWorker(victim, 'SIGKILL');
      t.faults++;
      await t.startWorker();
    }
    await t.untilChanges(changes);
  },
};

const dynamodbOutage: Nemesis = {
  name: 'dynamodb-outage',
  workers: 2,
  describe: (short) => `every connection to DynamoDB dropped and refused for ${window(short) / 1000} s`,
  act: async (t) => {
    await warmUp(t);
    await t.dynamo.setEnabled(false);
    t.faults++;
    await t.sleep(window(t.short));
    await t.dynamo.setEnabled(true);
    await t.sleep(5_000);
  },
};

const throttle: Nemesis = {
  name: 'throttle',
  workers: 2,
  describe: (short) => `30% of writes answered ProvisionedThroughputExceededException for ${window(short) / 1000} s`,
  act: async (t) => {
    await warmUp(t);
    const before = await t.metric('ferry_dynamodb_throttles_total');
    t.throttle.ratio = 0.3;
    await t.sleep(window(t.short));
    t.throttle.ratio = 0;
    t.faults = t.throttle.throttled;
    t.figures.throttlesCounted = (await t.metric('ferry_dynamodb_throttles_total')) - before;
    t.check(t.figures.throttlesCounted > 0, 'ferry_dynamodb_throttles_total did not rise under throttling');
    await t.sleep(5_000);
  },
};

const brokerRestart: Nemesis = {
  name: 'broker-restart',
  workers: 2,
  describe: () => 'Kafka stopped with SIGTERM and restarted, then killed with SIGKILL and restarted',
  act: async (t) => {
    for (const how of [[], ['--kill']]) {
      await warmUp(t);
      await t.stack('stop', 'kafka', ...how);
      t.faults++;
      await t.sleep(3_000);
      await t.stack('up', 'kafka');
    }
    await t.sleep(5_000);
  },
};

const connectRestart: Nemesis = {
  name: 'connect-restart',
  workers: 2,
  describe: () => 'Kafka Connect killed with SIGKILL and restarted; Debezium resumes from its last committed offset',
  act: async (t) => {
    await warmUp(t);
    await t.stack('stop', 'connect', '--kill');
    t.faults++;
    await t.sleep(2_000);
    await t.stack('up', 'connect');
    await t.connectorRunning();
    await t.sleep(5_000);
  },
};

const churn: Nemesis = {
  name: 'churn',
  workers: 1,
  describe: (short) => `the group scaled 1 → 3 → 1 ${short ? 3 : 10} times, one member killed during a rebalance`,
  act: async (t) => {
    const cycles = t.short ? 3 : 10;
    const killAt = t.rnd.int(cycles);
    for (let cycle = 0; cycle < cycles; cycle++) {
      await t.sleep(2_000 + t.rnd.int(3_000));
      const joining = [t.startWorker(), t.startWorker()];
      t.faults += 2;
      if (cycle === killAt) {
        // The new members' joins start a rebalance: kill a member that is taking part in it.
        await t.sleep(1_000 + t.rnd.int(1_000));
        await t.stopWorker(t.rnd.pick(t.workers()), 'SIGKILL');
        t.faults++;
      }
      await Promise.all(joining);
      await t.sleep(2_000 + t.rnd.int(3_000));
      while (t.workers().length > 1) {
        await t.stopWorker(t.rnd.pick(t.workers()), 'SIGTERM');
        t.faults++;
      }
    }
    await t.sleep(5_000);
  },
};

const latency: Nemesis = {
  name: 'latency',
  workers: 2,
  describe: (short) => `200 ± 100 ms added to every DynamoDB answer for ${window(short) / 1000} s`,
  act: async (t) => {
    await warmUp(t);
    const joins = t.joins();
    await t.dynamo.addToxic('latency', {
      type: 'latency',
      stream: 'downstream',
      attributes: { latency: 200, jitter: 100 },
    });
    t.faults++;
    await t.sleep(window(t.short));
    await t.dynamo.removeToxic('latency');
    // Heartbeats go on while slow writes are in flight, so no member drops out of the group.
    t.figures.rebalances = t.joins() - joins;
    t.check(t.figures.rebalances === 0, `${t.figures.rebalances} group joins while DynamoDB was slow`);
    await t.sleep(5_000);
  },
};

export const NEMESES: readonly Nemesis[] = [
  kill,
  dynamodbOutage,
  throttle,
  brokerRestart,
  connectRestart,
  churn,
  latency,
];
