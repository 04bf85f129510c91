import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/gateway/config/loadConfig.js';
import { PROJECT_ROOT } from '../../src/projectPaths.js';

const unitPath = path.join(PROJECT_ROOT, 'deploy', 'storepulse.service');
const unit = readFileSync(unitPath, 'utf8');
const directives = new Map(
  unit
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
);

describe('deployment files', () => {
  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('the unit passes systemd-analyze verify', () => {
    const result = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
    expect(result.stderr.trim()).toBe('');
    expect(result.status).toBe(0);
  });

  it('the unit is hardened and restarts for ever', () => {
    expect(Object.fromEntries(['User', 'Restart', 'NoNewPrivileges', 'ProtectSystem', 'StateDirectory', 'SupplementaryGroups', 'CapabilityBoundingSet'].map((k) => [k, directives.get(k)]))).toEqual({
      User: 'storepulse',
      Restart: 'always',
      NoNewPrivileges: 'yes',
      ProtectSystem: 'strict',
      StateDirectory: 'storepulse',
      SupplementaryGroups: 'video bluetooth',
      CapabilityBoundingSet: '',
    });
    expect(directives.get('ExecStart')).toBe('/usr/bin/node /opt/storepulse/dist/src/cli/main.js run --config /etc/storepulse/gateway.yaml');
  });

  it('install.sh is valid bash and installs the unit and config the unit expects', () => {
    const script = path.join(PROJECT_ROOT, 'deploy', 'install.sh');
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const text = readFileSync(script, 'utf8');
    expect(text).toContain('APP=${STOREPULSE_APP_DIR:-/opt/storepulse}');
    expect(text).toContain('ETC=${STOREPULSE_ETC_DIR:-/etc/storepulse}');
    expect(text).toContain('"$APP/config/gateway.example.yaml" "$ETC/gateway.yaml"');
  });

  it.each(['config/gateway.example.yaml', 'config/demo.yaml'])('%s is a valid config', async (file) => {
    const result = await loadConfigFile(path.join(PROJECT_ROOT, file), {});
    expect(result).toMatchObject({ ok: true });
  });

  it('the example config keeps data where the unit lets the service write', async () => {
    const result = await loadConfigFile(path.join(PROJECT_ROOT, 'config/gateway.example.yaml'), {});
    expect(result.ok && result.config.data_dir).toBe('/var/lib/storepulse');
  });
});
