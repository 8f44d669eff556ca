import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `docker compose config` where the plugin exists, else Debian's docker-compose: both validate offline. */
function composeCommand(): string[] {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose'];
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  throw new Error('neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)');
}

describe('deploy > docker-compose.yml', () => {
  it('is a valid compose file', () => {
    const [cmd, ...args] = composeCommand();
    const out = execFileSync(cmd as string, [...args, '-f', join(ROOT, 'docker-compose.yml'), 'config', '--services'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(out.split('\n').filter(Boolean).sort()).toEqual(
      [
        'connect',
        'dynamodb',
        'ferry-customers',
        'grafana',
        'kafka',
        'mysql',
        'prometheus',
        'register-connector',
        'schema-registry',
      ].sort(),
    );
  });
});
