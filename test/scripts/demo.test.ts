import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

describe('npm run demo settings', () => {
  test.each(['abc', '80', '9092x'])(
    'DEMO_KAFKA_PORT=%s stops the demo at once with one line that names it',
    (value) => {
      const env: NodeJS.ProcessEnv = { ...process.env, DEMO_KAFKA_PORT: value };
      delete env.KAFKA_BROKERS;
      const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/demo.ts'], {
        cwd: ROOT,
        encoding: 'utf8',
        env,
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim()).toBe(
        `demo failed: DEMO_KAFKA_PORT "${value}" is not valid; expected a port number from 1024 to 65533`,
      );
      expect(result.stdout).toBe('');
    },
  );
});
