import { ConfigError } from '../../src/core/errors';
import { type ConnectorStatus, ConnectError, waitForNewConnector } from '../../src/source/connect/connect-client';

const running: ConnectorStatus = { name: 'c', connector: { state: 'RUNNING' }, tasks: [{ id: 0, state: 'RUNNING' }] };
const noSleep = async () => undefined;

describe('source > connect > a new connector', () => {
  it('waits through the 404 Connect answers before it has written a new connector status', async () => {
    const answers: Array<ConnectorStatus | Error> = [
      new ConfigError('GET /connectors/c/status not found: No status found for connector c'),
      new ConfigError('GET /connectors/c/status not found'),
      { ...running, tasks: [] },
      running,
    ];
    const connect = {
      status: async () => {
        const next = answers.shift() as ConnectorStatus | Error;
        if (next instanceof Error) throw next;
        return next;
      },
    };
    await expect(waitForNewConnector(connect, 'c', 60_000, noSleep)).resolves.toEqual(running);
    expect(answers).toEqual([]);
  });

  it('ends at a failed task with its reason, and passes other errors on', async () => {
    const failed: ConnectorStatus = {
      name: 'c',
      connector: { state: 'RUNNING' },
      tasks: [{ id: 0, state: 'FAILED', trace: "java.sql.SQLException: Access denied for user 'cdc'\n\tat ..." }],
    };
    await expect(waitForNewConnector({ status: async () => failed }, 'c', 60_000, noSleep)).rejects.toThrow(
      /failed while ferry waited for RUNNING: java.sql.SQLException: Access denied for user 'cdc'$/,
    );
    const unreachable = new ConnectError('cannot reach Kafka Connect');
    await expect(
      waitForNewConnector({ status: async () => Promise.reject(unreachable) }, 'c', 60_000, noSleep),
    ).rejects.toBe(unreachable);
  });
});
